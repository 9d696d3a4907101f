package org.lustra.defense.classic;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.pooling.Pool;

/**
 * Binary morphology on H×W masks (row-major, true = set) with a 3×3 square structuring element. Only pixels inside
 * the image count as neighbours, so a region touching the border is not eaten from outside (a patch in a corner
 * survives an opening as it would in the middle). The {@link NDArray} forms apply the same operations to soft maps
 * (N, 1, H, W) by 3×3 max- and min-pooling: on a 0/1 map they give the boolean result exactly, and their derivative is
 * exact (each output selects one input), which is what a detector-aware attack differentiates.
 */
public final class Morphology {
    private Morphology() {}

    /** Erosion, {@code times} times: a pixel stays set only if its whole in-image 3×3 neighbourhood is set. */
    public static boolean[] erode(boolean[] mask, int h, int w, int times) {
        return repeat(mask, h, w, times, true);
    }

    /** Dilation, {@code times} times: a pixel is set if any pixel of its 3×3 neighbourhood is set. */
    public static boolean[] dilate(boolean[] mask, int h, int w, int times) {
        return repeat(mask, h, w, times, false);
    }

    /**
     * Opening (erosion then dilation, {@code times} each): removes every set region that no (2·times+1)² square fits
     * into — isolated pixels and thin specks — and restores the regions that survive to their shape.
     */
    public static boolean[] open(boolean[] mask, int h, int w, int times) {
        return dilate(erode(mask, h, w, times), h, w, times);
    }

    /** Closing (dilation then erosion): fills holes and gaps narrower than 2·times+1 pixels inside set regions. */
    public static boolean[] close(boolean[] mask, int h, int w, int times) {
        return erode(dilate(mask, h, w, times), h, w, times);
    }

    /** {@code times} in-image 3×3 dilations of maps (N, 1, H, W) by max-pooling; owned by the maps' manager. */
    public static NDArray dilate(NDArray maps, int times) {
        checkTimes(times);
        NDArray out = maps;
        for (int i = 0; i < times; i++) {
            // max_pool2d pads with −∞: an outside pixel never wins, as in the boolean form
            out = Pool.maxPool2d(out, new Shape(3, 3), new Shape(1, 1), new Shape(1, 1), false);
        }
        return out;
    }

    /** {@code times} in-image 3×3 erosions of maps (N, 1, H, W): a min-pool, −maxpool(−m); maps' manager. */
    public static NDArray erode(NDArray maps, int times) {
        checkTimes(times);
        return times == 0 ? maps : dilate(maps.neg(), times).neg();
    }

    /** Opening of soft maps: {@link #erode(NDArray, int)} then {@link #dilate(NDArray, int)}. */
    public static NDArray open(NDArray maps, int times) {
        return dilate(erode(maps, times), times);
    }

    /** Closing of soft maps: {@link #dilate(NDArray, int)} then {@link #erode(NDArray, int)}. */
    public static NDArray close(NDArray maps, int times) {
        return erode(dilate(maps, times), times);
    }

    private static void checkTimes(int times) {
        if (times < 0) {
            throw new IllegalArgumentException("Invalid morphology: " + times + " times (≥ 0)");
        }
    }

    private static boolean[] repeat(boolean[] mask, int h, int w, int times, boolean erode) {
        if (mask.length != h * w || times < 0) {
            throw new IllegalArgumentException("Invalid morphology: mask of " + mask.length + " pixels for " + h + "×"
                    + w + ", " + times + " times (≥ 0)");
        }
        boolean[] cur = mask.clone();
        for (int i = 0; i < times; i++) {
            cur = step(cur, h, w, erode);
        }
        return cur;
    }

    private static boolean[] step(boolean[] in, int h, int w, boolean erode) {
        boolean[] out = new boolean[in.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                // erosion: all neighbours set; dilation: any neighbour set
                boolean v = erode;
                for (int dy = -1; dy <= 1 && v == erode; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = y + dy;
                        int xx = x + dx;
                        if (yy >= 0 && yy < h && xx >= 0 && xx < w && in[yy * w + xx] != erode) {
                            v = !erode;
                            break;
                        }
                    }
                }
                out[y * w + x] = v;
            }
        }
        return out;
    }
}
