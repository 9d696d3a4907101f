package org.lustra.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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
 * know about a purifier before any attack: SPEC §6's bars (MAEP clean ≥ 97 %, PSNR ≥ 30 dB) are of this kind.
 */
final class DefenceCost {
    private DefenceCost() {}

    /** Measures on {@code set} and prints one summary line; randomised defences: one purification per image. */
    static void measure(NetClassifier c, ImageSet set, String splitName, DefenseSpec spec, String diffusion, long seed,
            int batch) {
        int n = set.size();
        int d = set.imageSize();
        int[] pred = new int[n];
        double psnr = 0;
        int unchanged = 0; // PSNR is infinite for them: left out of its mean, counted
        double ssim = 0;
        String purifierName;
        Progress progress = new Progress("eval " + c.name() + " behind " + spec.text() + " on " + splitName, n,
                "images");
        try (DefenseFactory defenses = new DefenseFactory(diffusion); NDManager base = NDManager.newBaseManager()) {
            Purifier p = defenses.create(spec, c);
            purifierName = p.name();
            DefendedClassifier defended = new DefendedClassifier(p, c);
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                try (NDManager m = base.newSubManager()) {
                    NDArray x = set.batch(m, from, to);
                    DefendedClassifier.Evaluation e = defended.evaluate(x, seed * 1_000_003L + from);
                    long[] top = e.logits().argMax(1).toLongArray();
                    float[] in = x.toFloatArray();
                    float[] out = e.purified().toFloatArray();
                    for (int i = from; i < to; i++) {
                        int off = (i - from) * d;
                        pred[i] = (int) top[i - from];
                        double q = Metrics.psnr(out, off, in, off, d);
                        if (Double.isInfinite(q)) {
                            unchanged++;
                        } else {
                            psnr += q;
                        }
                        ssim += Metrics.ssim(out, off, in, off, set.channels(), set.height(), set.width());
                    }
                }
                progress.update(to, "");
            }
            progress.finish(n, "done");
        }
        double acc = Predictions.accuracy(pred, set);
        System.out.printf(Locale.ROOT, "%s behind %s on %s (%d images, one purification per image, seed %d): accuracy "
                + "%.2f%% (%d/%d); purified vs input: PSNR %.2f dB (mean over the %d changed images; %d unchanged), "
                + "SSIM %.4f (mean)%n", c.name(), purifierName, splitName, n, seed, 100 * acc, Math.round(acc * n), n,
                unchanged == n ? Double.POSITIVE_INFINITY : psnr / (n - unchanged), n - unchanged, unchanged, ssim / n);
        System.out.println(Predictions.errorSummary(pred, set, c.classNames()));
    }
}
