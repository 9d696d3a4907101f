package org.lustra.eval.masks;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;

/**
 * {@code eval masks --full-length}: the patches of the validation tools can be made as the harness makes them against a
 * randomised defence (every iteration, best objective kept) instead of stopping at a first success.
 */
class PatchedImagesFullLengthTest {
    @TempDir
    Path tmp;

    @Test
    void givenTheSameSeed_whenPatchesRunFullLength_thenNoImageIsLessAdversarialAndSomeAreMore() {
        ImageSet eval = Subsets.load("eval512");
        int[] indices = IntStream.range(0, 8).toArray();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            PatchedImages early = PatchedImages.make(c, eval, indices, "lavan", 0.12, null, 3, eval, tmp, false);
            PatchedImages full = PatchedImages.make(c, eval, indices, "lavan", 0.12, null, 3, eval, tmp, true);

            double[] ceEarly = crossEntropy(c, early);
            double[] ceFull = crossEntropy(c, full);

            // the same start and places: the full run passes through the early-stopped iterate and keeps its best (the
            // per-image updates do not depend on which other images are still running)
            double gained = 0;
            for (int i = 0; i < indices.length; i++) {
                assertTrue(ceFull[i] >= ceEarly[i] - 1e-3, "image " + i + ": " + ceFull[i] + " < " + ceEarly[i]);
                gained += ceFull[i] - ceEarly[i];
            }
            assertTrue(gained > 0.5, "full length should push fooled images further; CE gained " + gained);
        }
    }

    /** Cross-entropy of the true class on each patched image (the LaVAN objective). */
    private static double[] crossEntropy(NetClassifier c, PatchedImages p) {
        int n = p.labels().length;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(p.patched(), new Shape(n, p.shape().get(0), p.shape().get(1), p.shape().get(2)));
            float[] logp = c.logits(x).logSoftmax(1).toFloatArray();
            int k = logp.length / n;
            double[] out = new double[n];
            for (int i = 0; i < n; i++) {
                out[i] = -logp[i * k + p.labels()[i]];
            }
            return out;
        }
    }
}
