package org.lustra.defense.classic;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.EnumSet;
import java.util.Set;
import org.lustra.defense.GradientMode;

/**
 * Spatial smoothing by a k×k median filter per channel, edges replicated (Xu et al., 2018).
 *
 * <p>Every output pixel is one of its window's input pixels, so the filter is a gather of the input at indices chosen
 * from the input's values: differentiable almost everywhere, like max-pooling, with the gradient of each output
 * reaching exactly the pixel it copies. {@link #purify} computes it that way, so adaptive attacks get EXACT gradients
 * (the default route) besides BPDA; BPDA's identity backward ignores that a patch pixel only survives the filter when
 * it is its window's median, and was the weaker attack on patches.
 */
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
    public Set<GradientMode> gradientModes() {
        return EnumSet.of(GradientMode.EXACT, GradientMode.BPDA);
    }

    @Override
    float[] apply(float[] chw, int c, int h, int w) {
        int[] at = medianIndices(chw, 0, c, h, w);
        float[] out = new float[chw.length];
        for (int j = 0; j < out.length; j++) {
            out[j] = chw[at[j]];
        }
        return out;
    }

    /** The filter as a gather of {@code x} (N, C, H, W): values equal {@link #apply}'s, gradients exact. */
    @Override
    public NDArray purify(NDArray x, long seed) {
        Shape shape = x.getShape();
        int n = (int) shape.get(0);
        int c = (int) shape.get(1);
        int h = (int) shape.get(2);
        int w = (int) shape.get(3);
        int per = c * h * w;
        float[] all = x.toFloatArray();
        long[] index = new long[all.length];
        for (int i = 0; i < n; i++) {
            int[] at = medianIndices(all, i * per, c, h, w);
            for (int j = 0; j < per; j++) {
                index[i * per + j] = at[j];
            }
        }
        NDArray flat = x.reshape(n, per);
        return flat.gather(x.getManager().create(index, new Shape(n, per)), 1).reshape(shape);
    }

    /**
     * For each pixel of the image at {@code off} in {@code all} (C·H·W values), the index within the image of its
     * window's median pixel (edges replicated; among equal values any index gives the same output).
     */
    private int[] medianIndices(float[] all, int off, int c, int h, int w) {
        int[] at = new int[c * h * w];
        int[] win = new int[k * k];
        int r = k / 2;
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int n = 0;
                    for (int dy = -r; dy <= r; dy++) {
                        int yy = Math.max(0, Math.min(h - 1, y + dy));
                        for (int dx = -r; dx <= r; dx++) {
                            int xx = Math.max(0, Math.min(w - 1, x + dx));
                            win[n++] = (ch * h + yy) * w + xx;
                        }
                    }
                    at[(ch * h + y) * w + x] = select(all, off, win, n / 2);
                }
            }
        }
        return at;
    }

    /** The index in {@code win} whose value ranks {@code rank} (insertion sort of a window of at most 225 entries). */
    private static int select(float[] all, int off, int[] win, int rank) {
        for (int a = 1; a < win.length; a++) {
            int key = win[a];
            float v = all[off + key];
            int b = a - 1;
            while (b >= 0 && all[off + win[b]] > v) {
                win[b + 1] = win[b];
                b--;
            }
            win[b + 1] = key;
        }
        return win[rank];
    }
}
