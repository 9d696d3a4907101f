package org.lustra.defense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.defense.diffpure.DiffPure;
import org.lustra.diffusion.Captions;
import org.lustra.diffusion.DiffusionConfig;
import org.lustra.diffusion.DiffusionModel;

class DiffPureTest {
    static final DiffusionConfig TINY = new DiffusionConfig(1, 8, new int[] {8, 16}, 2, 4,
            new Captions(List.of("alpha", "beta")).vocabulary(), 12, 8, 1, 1000, 1e-4, 0.02);

    @Test
    void purifiesInShapeAndRangeReplayablyAndLeavesNothingBehind() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = DiffusionModel.create(TINY, base.newSubManager(), 2)) {
            NDArray x = base.randomUniform(0, 1, new Shape(3, 1, 8, 8));
            int before = base.getManagedArrays().size();
            for (DiffPure.Options o : List.of(DiffPure.Options.ddpm(0.02), DiffPure.Options.ddim(0.1, 5))) {
                DiffPure p = new DiffPure(model, o);
                float[] a = p.purify(x, 7).toFloatArray();
                float[] b = p.purify(x, 7).toFloatArray();
                float[] c = p.purify(x, 8).toFloatArray();
                assertEquals(3 * 64, a.length);
                assertArrayEquals(a, b, 0f, p.name() + ": same seed, same output");
                assertFalse(Arrays.equals(a, c), p.name() + ": another seed, another output");
                for (float v : a) {
                    assertTrue(v >= 0 && v <= 1);
                }
            }
            // exactly the six results remain in the caller's manager
            assertEquals(before + 6, base.getManagedArrays().size());
            assertTrue(new DiffPure(model, DiffPure.Options.ddpm(0.1)).gradientModes().contains(GradientMode.EXACT));
        }
    }
}
