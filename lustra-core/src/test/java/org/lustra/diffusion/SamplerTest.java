package org.lustra.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class SamplerTest {
    static final DiffusionConfig TINY = new DiffusionConfig(1, 8, new int[] {8, 16}, 2, 4,
            new Captions(List.of("alpha", "beta")).vocabulary(), 12, 8, 1, 1000, 1e-4, 0.02);

    static DiffusionModel tinyModel(NDManager m) {
        DiffusionModel model = DiffusionModel.create(TINY, m.newSubManager(), 1);
        for (var p : model.net().getParameters()) {
            if (p.getKey().endsWith("out_weight")) {
                NDArray w = p.getValue().getArray();
                w.set(new NoiseSource(9).normal(m, w.getShape()).mul(0.05f).toFloatArray());
            }
        }
        return model;
    }

    /** Arrays a sampling run leaves in its parent manager: the result plus its fixed inputs, whatever the length. */
    static int leftover(DiffusionModel model, NDManager base, int steps) {
        try (NDManager work = base.newSubManager()) {
            NDArray img = Sampler.generate(model, work, List.of("a photo of a beta"),
                    new Sampler.Options(steps, true, 0, 1.0), new NoiseSource(3));
            assertEquals(new Shape(1, 1, 8, 8), img.getShape());
            for (float f : img.toFloatArray()) {
                assertTrue(f >= 0 && f <= 1);
            }
            return work.getManagedArrays().size();
        }
    }

    @Test
    void thousandStepDdpmChainKeepsArrayCountFlat() {
        try (NDManager base = NDManager.newBaseManager(); DiffusionModel model = tinyModel(base)) {
            int baseBefore = base.getManagedArrays().size();
            int shortRun = leftover(model, base, 5);
            int longRun = leftover(model, base, 1000);
            assertEquals(shortRun, longRun, "arrays left after 5 vs 1000 DDPM steps");
            // the result, the start noise and its copy, mask, masked image, context, and the [0, 1] conversion's steps
            assertTrue(longRun <= 12, "arrays left: " + longRun);
            assertEquals(baseBefore, base.getManagedArrays().size());
        }
    }

    @Test
    void guidedChainLeavesAsManyArraysAfter50StepsAsAfter5() {
        try (NDManager base = NDManager.newBaseManager(); DiffusionModel model = tinyModel(base)) {
            // given guided DDIM chains whose stacked conditioning is made once per chain
            int[] left = new int[2];
            int[] steps = {5, 50};
            for (int i = 0; i < 2; i++) {
                try (NDManager work = base.newSubManager()) {
                    // when each runs
                    Sampler.generate(model, work, List.of("alpha", "beta"), Sampler.Options.ddim(steps[i], 3.0),
                            new NoiseSource(4));
                    left[i] = work.getManagedArrays().size();
                }
            }
            // then the chain's fixed inputs went with it: the count does not depend on the length
            assertEquals(left[0], left[1], "arrays left after 5 vs 50 guided steps");
        }
    }

    @Test
    void samplingIsReplayableFromTheSeedAndInpaintingKeepsKnownPixels() {
        try (NDManager base = NDManager.newBaseManager(); DiffusionModel model = tinyModel(base)) {
            Sampler.Options opt = new Sampler.Options(10, false, 0.5, 3.0);
            float[] a = Sampler.generate(model, base, List.of("alpha"), opt, new NoiseSource(5)).toFloatArray();
            float[] b = Sampler.generate(model, base, List.of("alpha"), opt, new NoiseSource(5)).toFloatArray();
            assertArrayEquals(a, b, 0f);

            NDArray image = base.randomUniform(0, 1, new Shape(1, 1, 8, 8));
            float[] m = new float[64];
            for (int i = 18; i < 22; i++) {
                m[i] = 1f;
            }
            NDArray mask = base.create(m, new Shape(1, 1, 8, 8));
            float[] out = Sampler.inpaint(model, base, image, mask, List.of("a photo of a alpha"), opt,
                    new NoiseSource(6)).toFloatArray();
            float[] in = image.toFloatArray();
            for (int i = 0; i < 64; i++) {
                if (m[i] == 0f) {
                    assertEquals(in[i], out[i], 1e-6, "unmasked pixel " + i + " is pasted back");
                }
            }
        }
    }
}
