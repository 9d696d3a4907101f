package org.lustra.defense.classic;

import java.util.Arrays;

/** Spatial smoothing by a k×k median filter per channel, edges replicated (Xu et al., 2018). */
public final class MedianSmoothing extends PixelPurifier {
    private final int k;

    public MedianSmoothing(int k) {
        if (k < 1 || k % 2 == 0 || k > 15) {
            throw new IllegalArgumentException("Invalid median window: " + k + " (odd, 1..15)");
        }
        this.k = k;
    }

    @Override
    public String name() {
        return "median(" + k + "x" + k + ")";
    }

    @Override
    float[] apply(float[] chw, int c, int h, int w) {
        float[] out = new float[chw.length];
        float[] win = new float[k * k];
        int r = k / 2;
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int n = 0;
                    for (int dy = -r; dy <= r; dy++) {
                        int yy = Math.max(0, Math.min(h - 1, y + dy));
                        for (int dx = -r; dx <= r; dx++) {
                            int xx = Math.max(0, Math.min(w - 1, x + dx));
                            win[n++] = chw[(ch * h + yy) * w + xx];
                        }
                    }
                    Arrays.sort(win);
                    out[(ch * h + y) * w + x] = win[win.length / 2];
                }
            }
        }
        return out;
    }
}
