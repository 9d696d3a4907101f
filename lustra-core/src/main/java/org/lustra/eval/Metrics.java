package org.lustra.eval;

/** Per-sample image metrics and interval estimates used by the reports. Images are flat C·H·W floats in [0, 1]. */
public final class Metrics {
    private Metrics() {}

    /** PSNR in dB (data range 1); +∞ for identical images. */
    public static double psnr(float[] a, int aOff, float[] b, int bOff, int len) {
        double mse = 0;
        for (int j = 0; j < len; j++) {
            double d = a[aOff + j] - b[bOff + j];
            mse += d * d;
        }
        mse /= len;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(1 / mse);
    }

    /**
     * SSIM (Wang et al., 2004) with 7×7 uniform windows (scikit-image's default), C1 = 0.01², C2 = 0.03², data range
     * 1, averaged over all valid window positions and channels.
     */
    public static double ssim(float[] a, int aOff, float[] b, int bOff, int c, int h, int w) {
        int win = Math.min(7, Math.min(h, w));
        double c1 = 1e-4;
        double c2 = 9e-4;
        double total = 0;
        int count = 0;
        int np = win * win;
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y + win <= h; y++) {
                for (int x = 0; x + win <= w; x++) {
                    double sa = 0;
                    double sb = 0;
                    double saa = 0;
                    double sbb = 0;
                    double sab = 0;
                    for (int dy = 0; dy < win; dy++) {
                        for (int dx = 0; dx < win; dx++) {
                            int p = (ch * h + y + dy) * w + x + dx;
                            double va = a[aOff + p];
                            double vb = b[bOff + p];
                            sa += va;
                            sb += vb;
                            saa += va * va;
                            sbb += vb * vb;
                            sab += va * vb;
                        }
                    }
                    double ma = sa / np;
                    double mb = sb / np;
                    // sample (co)variances, as scikit-image
                    double va = (saa - np * ma * ma) / (np - 1);
                    double vb = (sbb - np * mb * mb) / (np - 1);
                    double cov = (sab - np * ma * mb) / (np - 1);
                    total += (2 * ma * mb + c1) * (2 * cov + c2) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
                    count++;
                }
            }
        }
        return total / count;
    }

    /** Wilson score interval (95 %) for k successes of n. */
    public static double[] wilson(long k, long n) {
        return n == 0 ? new double[] {Double.NaN, Double.NaN} : wilsonAt((double) k / n, n);
    }

    /**
     * Wilson's 95 % interval for a proportion pooled over run seeds that each score the same {@code images}: the
     * pooled proportion, but only the distinct images as the sample size. The seeds of one image are not independent
     * draws (an image the attack breaks under one seed it mostly breaks under the next), so counting every record
     * would narrow the interval by √seeds without new evidence; the per-image mean over seeds varies at most as much
     * as one Bernoulli draw, so this interval is conservative, and it equals {@link #wilson} with one seed.
     */
    public static double[] wilsonOverImages(long successes, long records, long images) {
        if (records == 0 || images == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        if (images > records) {
            throw new IllegalArgumentException("More distinct images (" + images + ") than records (" + records
                    + "): every image has at least one record");
        }
        return wilsonAt((double) successes / records, images);
    }

    private static double[] wilsonAt(double p, long n) {
        double z = 1.959963984540054;
        double den = 1 + z * z / n;
        double centre = (p + z * z / (2 * n)) / den;
        double half = z * Math.sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / den;
        return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
    }
}
