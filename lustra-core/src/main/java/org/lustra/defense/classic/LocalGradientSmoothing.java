package org.lustra.defense.classic;

/**
 * Local gradient smoothing (Naseer et al., "Local Gradients Smoothing: Defense against localized adversarial
 * attacks", WACV 2019): adversarial patches are regions of dense high-frequency noise, so the image's first-order
 * gradient magnitude (forward differences, averaged over channels, min-max normalised to [0, 1]) is kept only in the
 * overlapping k×k windows whose mean gradient exceeds τ, and the image is suppressed there: x ⊙ (1 − λ·ĝ), clipped.
 * The paper's 299×299 settings are window 15, overlap 5, τ = 0.1, λ = 2.3; for 28×28 images the window shrinks to 5
 * with overlap 2 (same threshold and λ).
 */
public final class LocalGradientSmoothing extends PixelPurifier {
    private final int window;
    private final int overlap;
    private final double threshold;
    private final double lambda;

    public LocalGradientSmoothing(int window, int overlap, double threshold, double lambda) {
        if (window < 2 || overlap < 0 || overlap >= window || !(threshold >= 0 && threshold <= 1)
                || !(lambda >= 0)) {
            throw new IllegalArgumentException("Invalid LGS: window " + window + ", overlap " + overlap
                    + ", threshold " + threshold + ", lambda " + lambda
                    + " (need window ≥ 2, 0 ≤ overlap < window, 0 ≤ threshold ≤ 1, lambda ≥ 0)");
        }
        this.window = window;
        this.overlap = overlap;
        this.threshold = threshold;
        this.lambda = lambda;
    }

    /** The 28×28 defaults: window 5, overlap 2, τ = 0.1, λ = 2.3. */
    public static LocalGradientSmoothing defaults() {
        return new LocalGradientSmoothing(5, 2, 0.1, 2.3);
    }

    @Override
    public String name() {
        return "lgs(w" + window + ",o" + overlap + ",t" + threshold + ",l" + lambda + ")";
    }

    /** The masked, normalised gradient map ĝ (H×W). */
    float[] gradientMap(float[] chw, int c, int h, int w) {
        float[] g = new float[h * w];
        float max = 0;
        float min = Float.MAX_VALUE;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double acc = 0;
                for (int ch = 0; ch < c; ch++) {
                    int base = ch * h * w;
                    // forward differences (backward at the last row/column); central ones cancel on a checkerboard
                    int xn = x + 1 < w ? x + 1 : x - 1;
                    int yn = y + 1 < h ? y + 1 : y - 1;
                    float gx = chw[base + y * w + xn] - chw[base + y * w + x];
                    float gy = chw[base + yn * w + x] - chw[base + y * w + x];
                    acc += Math.sqrt(gx * gx + gy * gy);
                }
                g[y * w + x] = (float) (acc / c);
                max = Math.max(max, g[y * w + x]);
                min = Math.min(min, g[y * w + x]);
            }
        }
        float range = max - min;
        for (int p = 0; p < g.length; p++) {
            g[p] = range > 0 ? (g[p] - min) / range : 0f;
        }
        boolean[] keep = new boolean[h * w];
        int stride = window - overlap;
        for (int y0 = 0; y0 < h; y0 += stride) {
            for (int x0 = 0; x0 < w; x0 += stride) {
                int y1 = Math.min(h, y0 + window);
                int x1 = Math.min(w, x0 + window);
                double sum = 0;
                for (int y = y0; y < y1; y++) {
                    for (int x = x0; x < x1; x++) {
                        sum += g[y * w + x];
                    }
                }
                if (sum / ((y1 - y0) * (x1 - x0)) > threshold) {
                    for (int y = y0; y < y1; y++) {
                        for (int x = x0; x < x1; x++) {
                            keep[y * w + x] = true;
                        }
                    }
                }
                if (x1 == w) {
                    break;
                }
            }
            if (Math.min(h, y0 + window) == h) {
                break;
            }
        }
        for (int p = 0; p < g.length; p++) {
            if (!keep[p]) {
                g[p] = 0f;
            }
        }
        return g;
    }

    @Override
    float[] apply(float[] chw, int c, int h, int w) {
        float[] g = gradientMap(chw, c, h, w);
        float[] out = new float[chw.length];
        for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < h * w; p++) {
                double v = chw[ch * h * w + p] * (1 - lambda * g[p]);
                out[ch * h * w + p] = (float) Math.max(0, Math.min(1, v));
            }
        }
        return out;
    }
}
