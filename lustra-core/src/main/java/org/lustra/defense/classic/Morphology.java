package org.lustra.defense.classic;

/**
 * Binary morphology on H×W masks (row-major, true = set) with a 3×3 square structuring element. Only pixels inside
 * the image count as neighbours, so a region touching the border is not eaten from outside (a patch in a corner
 * survives an opening as it would in the middle).
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
