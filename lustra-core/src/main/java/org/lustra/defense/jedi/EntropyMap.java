package org.lustra.defense.jedi;

/**
 * Local Shannon entropy of an image, Jedi's localisation signal (Tarchoun et al., CVPR 2023, §3.1: adversarial
 * patches, even naturalistic ones, pack more information per area than natural image content). For each pixel, the
 * intensities of the in-image (2r+1)² window centred on it are quantised into {@code bins} equal bins of [0, 1] and
 * H = Σ p·log₂(1/p) over the non-empty bins is its value, in bits: 0 on a flat region, at most
 * log₂(min(bins, (2r+1)²)) ({@link #maxBits}). Windows at the border hold fewer pixels; they are not padded, so the
 * border adds no artificial flat pixels.
 */
public final class EntropyMap {
    private EntropyMap() {}

    /** The most bits a full window can reach: log₂ of min(bins, window pixels). */
    public static double maxBits(int radius, int bins) {
        int pixels = (2 * radius + 1) * (2 * radius + 1);
        return Math.log(Math.min(bins, pixels)) / Math.log(2);
    }

    /**
     * Grey level of one image (C×H×W, channel-major, [0, 1]): the channel for C = 1, ITU-R BT.601 luma
     * (0.299 R + 0.587 G + 0.114 B) for C = 3, the channel mean otherwise.
     */
    public static float[] grey(float[] chw, int c, int h, int w) {
        if (chw.length != c * h * w) {
            throw new IllegalArgumentException("Invalid image: " + chw.length + " values for " + c + "×" + h + "×" + w);
        }
        int plane = h * w;
        float[] out = new float[plane];
        double[] weight = c == 3 ? new double[] {0.299, 0.587, 0.114} : null;
        for (int p = 0; p < plane; p++) {
            double v = 0;
            for (int ch = 0; ch < c; ch++) {
                v += chw[ch * plane + p] * (weight != null ? weight[ch] : 1.0 / c);
            }
            out[p] = (float) v;
        }
        return out;
    }

    /** The entropy in bits of the window around every pixel of a grey H×W image (row-major). */
    public static float[] compute(float[] grey, int h, int w, int radius, int bins) {
        if (grey.length != h * w || radius < 1 || radius > 32 || bins < 2 || bins > 256) {
            throw new IllegalArgumentException("Invalid entropy map: " + grey.length + " pixels for " + h + "×" + w
                    + ", radius " + radius + " (1..32), bins " + bins + " (2..256)");
        }
        int[] bin = new int[grey.length];
        for (int p = 0; p < grey.length; p++) {
            float v = Math.max(0f, Math.min(1f, grey[p]));
            bin[p] = Math.min(bins - 1, (int) (v * bins));
        }
        int[] counts = new int[bins];
        float[] out = new float[grey.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int y0 = Math.max(0, y - radius);
                int y1 = Math.min(h - 1, y + radius);
                int x0 = Math.max(0, x - radius);
                int x1 = Math.min(w - 1, x + radius);
                for (int yy = y0; yy <= y1; yy++) {
                    for (int xx = x0; xx <= x1; xx++) {
                        counts[bin[yy * w + xx]]++;
                    }
                }
                double n = (y1 - y0 + 1) * (x1 - x0 + 1);
                double bits = 0;
                for (int b = 0; b < bins; b++) {
                    if (counts[b] > 0) {
                        bits += counts[b] / n * Math.log(n / counts[b]);
                        counts[b] = 0;
                    }
                }
                out[y * w + x] = (float) (bits / Math.log(2));
            }
        }
        return out;
    }

    /**
     * Jedi's high-entropy kernel map of one entropy map (bits, H×W): the centres of the windows whose entropy exceeds
     * θ·{@link #maxBits}, a share of the most a window can reach, so one θ serves every window size and bin count.
     */
    public static boolean[] kernels(float[] bits, int radius, int bins, double theta) {
        double cut = theta * maxBits(radius, bins);
        boolean[] out = new boolean[bits.length];
        for (int p = 0; p < bits.length; p++) {
            out[p] = bits[p] > cut;
        }
        return out;
    }
}
