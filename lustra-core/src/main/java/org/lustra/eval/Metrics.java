package org.lustra.eval;

import java.util.Collection;

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
        return n == 0 ? new double[] {Double.NaN, Double.NaN} : wilsonAt((double) k / n, (double) n);
    }

    /**
     * Wilson's 95 % interval for a proportion pooled over run seeds that repeat the same images: the pooled proportion,
     * with the images, not the records, as the sample size. The seeds of one image are not independent draws (an image
     * the attack breaks under one seed it mostly breaks under the next), so counting every record would narrow the
     * interval by up to √seeds. Each image's mean over its seeds lies in [0, 1], so it varies at most as p(1 − p): with
     * every image scored by the same number of seeds this interval is no narrower than one over per-image means, and
     * with one seed it is {@link #wilson}. Where the counts differ (a run still under way) the sample size is Kish's
     * effective one, (Σ w)² / Σ w², w an image's records, so an image with more seeds weighs more without counting as
     * more images.
     *
     * @param recordsPerImage how many records (seeds) each distinct image has, every count ≥ 1
     */
    public static double[] wilsonOverImages(long successes, Collection<Integer> recordsPerImage) {
        long records = 0;
        double squares = 0;
        for (int w : recordsPerImage) {
            if (w < 1) {
                throw new IllegalArgumentException("An image has " + w + " records; every image counted has ≥ 1");
            }
            records += w;
            squares += (double) w * w;
        }
        if (records == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        if (successes < 0 || successes > records) {
            throw new IllegalArgumentException(successes + " successes of " + records + " records (need 0 ≤ k ≤ n)");
        }
        return wilsonAt((double) successes / records, (double) records * records / squares);
    }

    private static double[] wilsonAt(double p, double n) {
        double z = 1.959963984540054;
        double den = 1 + z * z / n;
        double centre = (p + z * z / (2 * n)) / den;
        double half = z * Math.sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / den;
        return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
    }
}
