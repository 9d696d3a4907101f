package org.lustra.defense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.lustra.data.Subsets;
import org.lustra.defense.classic.BitDepth;
import org.lustra.defense.classic.Jpeg;
import org.lustra.defense.classic.LocalGradientSmoothing;
import org.lustra.defense.classic.MedianSmoothing;

class ClassicDefencesTest {
    @Test
    void bitDepthRoundsToTheLevels() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {0f, 0.2f, 0.49f, 0.51f, 0.9f, 1f}, new Shape(1, 1, 2, 3));
            // 1 bit: levels {0, 1}; 2 bits: {0, 1/3, 2/3, 1}
            assertArrayEquals(new float[] {0, 0, 0, 1, 1, 1}, new BitDepth(1).purify(x, 0).toFloatArray(), 0f);
            assertArrayEquals(new float[] {0, 1 / 3f, 1 / 3f, 2 / 3f, 1, 1},
                    new BitDepth(2).purify(x, 0).toFloatArray(), 1e-7f);
        }
    }

    @Test
    void medianRemovesIsolatedSaltAndKeepsFlatRegions() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] img = new float[25];
            java.util.Arrays.fill(img, 0.3f);
            img[12] = 1f; // a single bright pixel in the middle of a flat 5x5 image
            float[] out = new MedianSmoothing(3).purify(m.create(img, new Shape(1, 1, 5, 5)), 0).toFloatArray();
            for (float v : out) {
                assertEquals(0.3f, v, 0f);
            }
        }
    }

    @Test
    void jpegIsNearIdentityAtHighQualityAndLossierAtLowQuality() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = Subsets.load("eval512").batch(m, 0, 8);
            double high = psnr(new Jpeg(95).purify(x, 0), x);
            double low = psnr(new Jpeg(10).purify(x, 0), x);
            assertTrue(high > 30, "q=95 PSNR " + high);
            assertTrue(low < high - 5, "q=10 PSNR " + low + " vs q=95 " + high);
        }
    }

    @Test
    void everyClassicDefenceIsDeterministicShapePreservingAndDeclaresItsRoutes() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomUniform(0, 1, new Shape(3, 1, 28, 28));
            for (Purifier p : List.of(new Jpeg(75), new MedianSmoothing(3), new BitDepth(4),
                    LocalGradientSmoothing.defaults())) {
                float[] a = p.purify(x, 1).toFloatArray();
                assertArrayEquals(a, p.purify(x, 2).toFloatArray(), 0f, p.name());
                assertEquals(x.getShape(), p.purify(x, 0).getShape());
                for (float v : a) {
                    assertTrue(v >= 0 && v <= 1, p.name());
                }
                // the median is a gather of its input, so it also offers exact gradients
                assertEquals(p instanceof MedianSmoothing ? Set.of(GradientMode.EXACT, GradientMode.BPDA)
                        : Set.of(GradientMode.BPDA), p.gradientModes(), p.name());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new Jpeg(0));
        assertThrows(IllegalArgumentException.class, () -> new MedianSmoothing(4));
        assertThrows(IllegalArgumentException.class, () -> new BitDepth(9));
        assertThrows(IllegalArgumentException.class, () -> new LocalGradientSmoothing(5, 5, 0.1, 2.3));
    }

    /**
     * Given random images, when median-filtered as a gather, then every output is its window's median (sorted by a
     * reference) and the EXACT gradient of a weighted sum reaches each selected input pixel with exactly its output's
     * weight — what finite differences of the filter give away from ties.
     */
    @Test
    void medianIsAGatherOfItsWindowsMedianWithExactGradients() {
        int k = 3;
        int h = 7;
        int w = 6;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomUniform(0, 1, new Shape(2, 1, h, w));
            float[] in = x.toFloatArray();
            float[] weights = m.randomUniform(-1, 1, new Shape(2 * h * w)).toFloatArray();
            x.setRequiresGradient(true);
            float[] out;
            try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                NDArray y = new MedianSmoothing(k).purify(x, 0);
                out = y.toFloatArray();
                gc.backward(y.reshape(-1).mul(m.create(weights)).sum());
            }
            float[] grad = x.getGradient().toFloatArray();
            float[] expected = new float[in.length];
            for (int i = 0; i < 2; i++) {
                for (int yy = 0; yy < h; yy++) {
                    for (int xx = 0; xx < w; xx++) {
                        float[] win = new float[k * k];
                        int n = 0;
                        for (int dy = -1; dy <= 1; dy++) {
                            for (int dx = -1; dx <= 1; dx++) {
                                int r = Math.max(0, Math.min(h - 1, yy + dy));
                                int c = Math.max(0, Math.min(w - 1, xx + dx));
                                win[n++] = in[i * h * w + r * w + c];
                            }
                        }
                        java.util.Arrays.sort(win);
                        int o = i * h * w + yy * w + xx;
                        assertEquals(win[4], out[o], 0f);
                        // random values have no ties: the median is exactly one input pixel of the image
                        int src = -1;
                        for (int j = i * h * w; j < (i + 1) * h * w; j++) {
                            if (in[j] == out[o]) {
                                src = j;
                            }
                        }
                        expected[src] += weights[o];
                    }
                }
            }
            assertArrayEquals(expected, grad, 1e-5f);
        }
    }

    /**
     * A flat grey image with a 6×6 checkerboard patch: LGS suppresses the patch's high frequencies (dense gradients) and leaves the flat
     * area far from it untouched.
     */
    @Test
    void lgsSuppressesADenseHighFrequencyPatchAndKeepsFlatAreas() {
        float[] img = new float[28 * 28];
        java.util.Arrays.fill(img, 0.5f);
        for (int y = 10; y < 16; y++) {
            for (int x = 10; x < 16; x++) {
                img[y * 28 + x] = (x + y) % 2 == 0 ? 1f : 0f;
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            float[] out = LocalGradientSmoothing.defaults().purify(m.create(img, new Shape(1, 1, 28, 28)), 0)
                    .toFloatArray();
            double before = 0;
            double after = 0;
            for (int y = 10; y < 16; y++) {
                for (int x = 10; x < 15; x++) {
                    before += Math.abs(img[y * 28 + x + 1] - img[y * 28 + x]);
                    after += Math.abs(out[y * 28 + x + 1] - out[y * 28 + x]);
                }
            }
            assertTrue(after < 0.3 * before, "total variation inside the patch " + before + " -> " + after);
            assertEquals(0.5f, out[2 * 28 + 2], 0f, "flat corner untouched");
            assertEquals(0.5f, out[25 * 28 + 25], 0f, "flat corner untouched");
        }
    }

    static double psnr(NDArray a, NDArray b) {
        double mse = a.sub(b).square().mean().getFloat();
        return 10 * Math.log10(1 / Math.max(mse, 1e-12));
    }
}
