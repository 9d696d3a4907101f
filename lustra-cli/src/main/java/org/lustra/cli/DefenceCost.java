package org.lustra.cli;

import java.util.Locale;
import org.lustra.data.ImageSet;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.Purifier;
import org.lustra.eval.Metrics;
import org.lustra.model.NetClassifier;
import org.lustra.model.Predictions;
import org.lustra.util.Progress;

/**
 * {@code lustra eval classifier --defense SPEC}: what a defence costs on clean images — the defended model's accuracy,
 * where its errors fall, and how faithful the purified images are to their inputs (PSNR, SSIM). The first thing to
 * know about a purifier before any attack: SPEC §6's bars (MAEP clean ≥ 97 %, PSNR ≥ 30 dB) are of this kind. The
 * images are drawn as {@link DefendedClassifier#accuracy} draws them, so a DiffPure number here equals
 * {@code eval diffusion}'s for the same seed.
 */
final class DefenceCost {
    private DefenceCost() {}

    /** What {@link #measure} found: correct of n, and the fidelity means. */
    record Result(int correct, int n, double psnrDb, double ssim, int unchanged) {
        double accuracy() {
            return (double) correct / n;
        }
    }

    /** Measures on {@code set} and prints the summary; randomised defences: one purification per image. */
    static Result measure(NetClassifier c, ImageSet set, String splitName, DefenseSpec spec, String diffusion, long seed,
            int batch) {
        int n = set.size();
        int d = set.imageSize();
        double[] psnrSum = {0};
        double[] ssimSum = {0};
        int[] unchanged = {0}; // PSNR is infinite for them: left out of its mean, counted
        Progress progress = new Progress("eval " + c.name() + " behind " + spec.text() + " on " + splitName, n,
                "images");
        String purifierName;
        int[] pred;
        try (DefenseFactory defenses = new DefenseFactory(diffusion)) {
            Purifier p = defenses.create(spec, c);
            purifierName = p.name() + (spec.usesDiffusionModel() ? " on " + diffusion : "");
            pred = new DefendedClassifier(p, c).predictions(set, batch, seed, (from, input, purified) -> {
                float[] in = input.toFloatArray();
                float[] out = purified.toFloatArray();
                int rows = in.length / d;
                for (int r = 0; r < rows; r++) {
                    double q = Metrics.psnr(out, r * d, in, r * d, d);
                    double v = Metrics.ssim(out, r * d, in, r * d, set.channels(), set.height(), set.width());
                    // +∞ PSNR is an untouched image; NaN or −∞ come only from non-finite pixels
                    if (Double.isNaN(q) || q == Double.NEGATIVE_INFINITY || !Double.isFinite(v)) {
                        throw new IllegalStateException(p.name() + " gave non-finite pixels on image "
                                + (from + r) + " of " + splitName + ": a bug in the defence, not a result");
                    }
                    if (Double.isInfinite(q)) {
                        unchanged[0]++;
                    } else {
                        psnrSum[0] += q;
                    }
                    ssimSum[0] += v;
                }
                progress.update(from + rows, "");
            });
            progress.finish(n, "done");
        }
        int correct = 0;
        for (int i = 0; i < n; i++) {
            correct += pred[i] == set.label(i) ? 1 : 0;
        }
        int changed = n - unchanged[0];
        Result r = new Result(correct, n, changed == 0 ? Double.POSITIVE_INFINITY : psnrSum[0] / changed,
                ssimSum[0] / n, unchanged[0]);
        System.out.printf(Locale.ROOT, "%s behind %s on %s (%d images, one purification per image, seed %d): accuracy "
                + "%.2f%% (%d/%d); purified vs input: PSNR %.2f dB (mean over the %d changed images; %d unchanged), "
                + "SSIM %.4f (mean)%n", c.name(), purifierName, splitName, n, seed, 100 * r.accuracy(), correct, n,
                r.psnrDb(), changed, r.unchanged(), r.ssim());
        System.out.println(Predictions.errorSummary(pred, set, c.classNames()));
        return r;
    }
}
