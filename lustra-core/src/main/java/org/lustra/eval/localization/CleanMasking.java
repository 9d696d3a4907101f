package org.lustra.eval.localization;

import ai.djl.ndarray.NDManager;
import org.lustra.data.ImageSet;
import org.lustra.defense.MaskScores;
import org.lustra.defense.diffender.Diffender;
import org.lustra.diffusion.NoiseSource;

/**
 * How much of a clean image DIFFender repaints: the share of pixels its final (refined) mask covers on images without
 * a patch (issue 11 item 4 asks ≤ 3 % on average for the default). The mask is the one {@link Diffender#purify} would
 * use for the same chunk and seed — localisation draws its noise first — so no restoration needs to run.
 */
public final class CleanMasking {
    private CleanMasking() {}

    /**
     * @param perImage masked share of each image
     * @param mean mean over images
     * @param max the largest share
     * @param over10Percent images with more than 10 % of their pixels masked
     */
    public record Result(int images, double mean, double max, int over10Percent, double[] perImage) {}

    /** Measures images {@code from..to-1} of {@code set} in chunks of {@code chunk}, chunk k with seed {@code seed + k}. */
    public static Result measure(Diffender d, ImageSet set, int from, int to, long seed, int chunk) {
        if (from < 0 || to > set.size() || from >= to || chunk < 1) {
            throw new IllegalArgumentException("Invalid range " + from + ".." + to + " of " + set.size()
                    + " images (need 0 ≤ from < to ≤ size) or chunk " + chunk + " (≥ 1)");
        }
        double[] share = new double[to - from];
        for (int start = from, k = 0; start < to; start += chunk, k++) {
            int end = Math.min(to, start + chunk);
            try (NDManager m = NDManager.newBaseManager()) {
                float[] mask = d.localizer().localize(set.batch(m, start, end), d.options().promptL(),
                        new NoiseSource(seed + k)).mask().toFloatArray();
                int hw = mask.length / (end - start);
                for (int i = 0; i < end - start; i++) {
                    share[start - from + i] = MaskScores.overlap(mask, i * hw, null, 0, hw).maskedShare();
                }
            }
        }
        double sum = 0;
        double max = 0;
        int over = 0;
        for (double v : share) {
            sum += v;
            max = Math.max(max, v);
            over += v > 0.10 ? 1 : 0;
        }
        return new Result(share.length, sum / share.length, max, over, share);
    }
}
