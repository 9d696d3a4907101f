package org.lustra.defense.classic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Telea's fast-marching inpainting on hand-made images whose hidden pixels are known. */
class TeleaInpaintingTest {
    private static final int H = 28;
    private static final int W = 28;

    /** A size×size hole from row and column {@code from} (6×6 is the 5 % patch of a 28×28 image). */
    private static boolean[] square(int from, int size) {
        boolean[] m = new boolean[H * W];
        for (int y = from; y < from + size; y++) {
            for (int x = from; x < from + size; x++) {
                m[y * W + x] = true;
            }
        }
        return m;
    }

    /** The image with every hidden pixel set to 1 (in every channel), so no fill can succeed by keeping it. */
    private static float[] hidden(float[] truth, boolean[] hole) {
        float[] in = truth.clone();
        for (int i = 0; i < in.length; i++) {
            if (hole[i % (H * W)]) {
                in[i] = 1f;
            }
        }
        return in;
    }

    @Test
    void givenALinearRamp_whenAHoleIsInpainted_thenTheFillMatchesTheRamp() {
        // Telea's estimate I(q) + ∇I(q)·(p − q) is exact on a linear image, and so is every finite difference
        float[] img = new float[H * W];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                img[y * W + x] = 0.2f + 0.01f * x + 0.008f * y;
            }
        }
        boolean[] hole = square(11, 6);
        float[] out = new TeleaInpainting(3).inpaint(hidden(img, hole), 1, H, W, hole);
        for (int p = 0; p < H * W; p++) {
            assertEquals(img[p], out[p], 1e-4f, "pixel " + p);
        }
    }

    @Test
    void givenASmoothImage_whenAHoleIsInpainted_thenTheFillIsCloseToTheTruthAndFarBetterThanTheMean() {
        float[] img = new float[H * W];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                img[y * W + x] = (float) (0.5 + 0.3 * Math.sin(x / 4.0) * Math.cos(y / 5.0));
            }
        }
        boolean[] hole = square(11, 6);
        float[] out = new TeleaInpainting(3).inpaint(hidden(img, hole), 1, H, W, hole);
        double known = 0;
        int count = 0;
        for (int p = 0; p < H * W; p++) {
            if (!hole[p]) {
                known += img[p];
                count++;
            }
        }
        double mean = known / count;
        double err = 0;
        double meanErr = 0;
        for (int p = 0; p < H * W; p++) {
            if (hole[p]) {
                err += Math.abs(out[p] - img[p]) / 36;
                meanErr += Math.abs(mean - img[p]) / 36;
            }
        }
        assertTrue(err < 0.03, "mean absolute error in the hole " + err);
        assertTrue(err < 0.35 * meanErr, "Telea " + err + " vs filling with the mean " + meanErr);
    }

    @Test
    void givenAnyMask_whenInpainted_thenPixelsOutsideItAreReturnedBitForBitAndTheFillIsInRange() {
        SplittableRandom r = new SplittableRandom(5);
        int c = 3;
        float[] img = new float[c * H * W];
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) r.nextDouble();
        }
        boolean[] hole = new boolean[H * W];
        for (int p = 0; p < H * W; p++) {
            hole[p] = r.nextDouble() < 0.3; // scattered holes, some touching the border
        }
        float[] out = new TeleaInpainting(2).inpaint(img, c, H, W, hole);
        int changed = 0;
        for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < H * W; p++) {
                int i = ch * H * W + p;
                if (!hole[p]) {
                    assertEquals(Float.floatToIntBits(img[i]), Float.floatToIntBits(out[i]), "pixel " + i);
                } else {
                    assertTrue(out[i] >= 0 && out[i] <= 1, "fill " + out[i]);
                    changed += out[i] != img[i] ? 1 : 0;
                }
            }
        }
        assertTrue(changed > 0, "the holes were filled");
    }

    @Test
    void givenColourChannelsWithDifferentRamps_whenInpainted_thenEachChannelFollowsItsOwnRamp() {
        int c = 2;
        float[] img = new float[c * H * W];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                img[y * W + x] = 0.1f + 0.02f * x;
                img[H * W + y * W + x] = 0.9f - 0.02f * y;
            }
        }
        boolean[] hole = square(4, 5);
        float[] out = new TeleaInpainting(3).inpaint(hidden(img, hole), c, H, W, hole);
        for (int i = 0; i < img.length; i++) {
            assertEquals(img[i], out[i], 1e-4f, "value " + i);
        }
    }

    @Test
    void givenAnInvalidRadiusOrSizes_whenBuiltOrCalled_thenItIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new TeleaInpainting(0));
        assertThrows(IllegalArgumentException.class,
                () -> new TeleaInpainting(3).inpaint(new float[10], 1, H, W, new boolean[H * W]));
    }
}
