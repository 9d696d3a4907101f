package org.lustra.defense.jedi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.MaskingPurifier;

/**
 * Jedi as a {@link org.lustra.defense.DetectingPurifier} (issue 16): the soft-binned entropy agrees with the hard
 * map, the soft detection's forward is the defence's own map and its input gradient is finite and non-zero, and the
 * hard detection is the mask purify replaces.
 */
class JediDetectorTest {

    /** n eval512 images, each with a 10×10 square of 8-bit uniform noise at a random place. */
    static float[] noisePatched(ImageSet eval, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * 784];
        for (int i = 0; i < n; i++) {
            float[] img = eval.imageFloats(i);
            int top = r.nextInt(19);
            int left = r.nextInt(19);
            for (int a = 0; a < 10; a++) {
                for (int b = 0; b < 10; b++) {
                    img[(top + a) * 28 + left + b] = r.nextInt(256) / 255f;
                }
            }
            System.arraycopy(img, 0, x, i * 784, 784);
        }
        return x;
    }

    @Test
    void givenAWindowOfTwoLevelsFarFromBinEdges_whenTheSoftEntropyIsComputed_thenItIsTheHandComputedValue() {
        float[] img = new float[9 * 9];
        for (int p = 0; p < img.length; p++) {
            img[p] = p % 9 < 4 ? 0.03f : 0.97f; // half a bin from the nearest edge
        }
        double expected = 0.4 * Math.log(1 / 0.4) / Math.log(2) + 0.6 * Math.log(1 / 0.6) / Math.log(2);
        try (NDManager m = NDManager.newBaseManager()) {
            float[] soft = SoftEntropy.bits(m.create(img, new Shape(1, 1, 9, 9)), 2, 16, SoftEntropy.HALF_WIDTH)
                    .toFloatArray();
            assertEquals(expected, soft[4 * 9 + 4], 1e-3, "the window around (4, 4): 2 of 5 columns dark");
            assertEquals(EntropyMap.compute(img, 9, 9, 2, 16)[0], soft[0], 1e-3, "a border window, unpadded");
        }
    }

    @Test
    void givenEvalImagesCleanAndWithANoisePatch_whenTheSoftEntropyIsComputed_thenItAgreesWithTheHardMap() {
        ImageSet eval = Subsets.load("eval512");
        int n = 8;
        float[] clean = new float[n * 784];
        for (int i = 0; i < n; i++) {
            System.arraycopy(eval.imageFloats(i), 0, clean, i * 784, 784);
        }
        double cut = 0.7 * EntropyMap.maxBits(2, 16);
        try (NDManager m = NDManager.newBaseManager()) {
            for (float[] x : new float[][] {clean, noisePatched(eval, n, 3)}) {
                float[] soft = SoftEntropy.bits(m.create(x, new Shape(n, 1, 28, 28)), 2, 16, SoftEntropy.HALF_WIDTH)
                        .toFloatArray();
                double error = 0;
                int agree = 0;
                for (int i = 0; i < n; i++) {
                    float[] hard = EntropyMap.compute(Arrays.copyOfRange(x, i * 784, (i + 1) * 784), 28, 28, 2, 16);
                    for (int p = 0; p < 784; p++) {
                        error += Math.abs(hard[p] - soft[i * 784 + p]);
                        agree += (hard[p] > cut) == (soft[i * 784 + p] > cut) ? 1 : 0;
                    }
                }
                // measured on these 8 images: 0.069 / 0.075 bits (clean / patched) of a 4-bit range, and 97.1 / 96.4 %
                // of kernel decisions (cut 2.8 bits) agree
                System.out.println("soft vs hard entropy: mean error " + error / (n * 784) + " bits, kernel agreement "
                        + agree / (double) (n * 784));
                assertTrue(error / (n * 784) < 0.1, "mean |H̃ − H| " + error / (n * 784) + " bits");
                assertTrue(agree >= 0.95 * n * 784, "kernel decisions agree on " + agree + " of " + n * 784);
            }
        }
    }

    @Test
    void givenJediWithItsAutoencoder_whenItsDetectionIsAsked_thenItIsTheMaskPurifyReplacesAndTheSoftMapTracksIt() {
        ImageSet eval = Subsets.load("eval512");
        try (NDManager m = NDManager.newBaseManager();
                Jedi jedi = new Jedi(Jedi.Options.defaults().withTau(0.3), JediAutoencoder.load("jedi-autoencoder"))) {
            NDArray x = m.create(noisePatched(eval, 4, 5), new Shape(4, 1, 28, 28));
            MaskingPurifier.Masked r = jedi.purifyMasked(x, 0);
            float[] mask = r.mask().toFloatArray();
            assertArrayEquals(mask, jedi.detection(x, 0).toFloatArray(), 0f);
            float[] soft = jedi.softDetection(x, 0).toFloatArray();
            assertArrayEquals(r.anomaly().toFloatArray(), soft, 1e-6f, "forward: the autoencoder's probability map");
            for (int p = 0; p < mask.length; p++) {
                assertEquals(mask[p], soft[p] > 0.3f ? 1f : 0f, "pixel " + p + ": the soft map above τ is the mask");
            }
            assertTrue(sum(mask) > 50, "the noise squares are found: " + sum(mask));
        }
    }

    @Test
    void givenJediWithItsAutoencoder_whenTheSoftDetectionIsDifferentiated_thenTheInputGradientIsFiniteAndNonZero() {
        ImageSet eval = Subsets.load("eval512");
        try (NDManager m = NDManager.newBaseManager();
                Jedi jedi = new Jedi(Jedi.Options.defaults().withTau(0.3), JediAutoencoder.load("jedi-autoencoder"))) {
            NDArray x = m.create(noisePatched(eval, 2, 7), new Shape(2, 1, 28, 28));
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(jedi.softDetection(x, 0).sum());
            }
            float[] g = x.getGradient().toFloatArray();
            int moved = 0;
            for (float v : g) {
                assertTrue(Float.isFinite(v));
                moved += Math.abs(v) > 1e-4 ? 1 : 0;
            }
            assertTrue(moved > 50, "pixels with a gradient: " + moved);
        }
    }

    @Test
    void givenJediMorphology_whenTheMaskedSurrogateRuns_thenItIsPurifyAndTheSoftMapIsTheMask() {
        try (NDManager m = NDManager.newBaseManager()) {
            Jedi jedi = new Jedi(JediTest.OPTIONS);
            NDArray x = m.create(JediTest.noiseSquare(4), new Shape(1, 1, JediTest.H, JediTest.W));
            MaskingPurifier.Masked r = jedi.purifyMasked(x, 0);
            float[] mask = r.mask().toFloatArray();
            assertArrayEquals(mask, jedi.detection(x, 0).toFloatArray(), 0f);
            assertArrayEquals(mask, jedi.softDetection(x, 0).toFloatArray(), 0f, "the relaxation's forward is hard");
            NDArray leaf = x.duplicate();
            leaf.setRequiresGradient(true);
            float[] out;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = jedi.purifyMaskedSurrogate(leaf, 0);
                out = y.toFloatArray();
                gc.backward(y.sum());
            }
            assertArrayEquals(r.purified().toFloatArray(), out, 0f);
            for (float v : leaf.getGradient().toFloatArray()) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    private static double sum(float[] a) {
        double s = 0;
        for (float v : a) {
            s += v;
        }
        return s;
    }
}
