package org.lustra.defense.diffender;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.lustra.attack.LogitRows;
import org.lustra.defense.MaskScores;
import org.lustra.diffusion.NoiseSource;
import org.lustra.model.Classifier;

/**
 * How prompt tuning scores a set of prompts on validation images: the defence with those prompts on fixed noise (chunk
 * k of {@value #CHUNK} images uses seed {@code seed + k}, the same at every validation, so epochs differ only by their
 * prompts), giving raw- and refined-mask IoU against the true masks and, when the restoration is tuned, the restored
 * accuracy. Without the restoration only the localisation runs, on the same noise stream (localisation draws first).
 */
final class TuningValidation {
    /** Images per defence call: bounds memory at 128 and more validation images. */
    static final int CHUNK = 32;

    private final Diffender defence;
    private final Classifier classifier;
    private final boolean restoration;
    private final long seed;

    TuningValidation(Diffender defence, Classifier classifier, boolean restoration, long seed) {
        this.defence = defence;
        this.classifier = classifier;
        this.restoration = restoration;
        this.seed = seed;
    }

    /** {restored accuracy (NaN without the restoration), mean raw-mask IoU, mean refined-mask IoU}. */
    double[] score(PromptTuning.PatchedSet val) {
        int n = val.size();
        int hw = val.masks().length / n;
        int d = val.adversarial().length / n;
        int c = d / hw;
        int s = (int) Math.round(Math.sqrt(hw));
        int ok = 0;
        double raw = 0;
        double refined = 0;
        for (int from = 0, k = 0; from < n; from += CHUNK, k++) {
            int to = Math.min(n, from + CHUNK);
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray x = m.create(Arrays.copyOfRange(val.adversarial(), from * d, to * d),
                        new Shape(to - from, c, s, s));
                PatchLocalizer.Localization loc;
                if (restoration) {
                    Diffender.Result res = defence.purifyWithMasks(x, seed + k);
                    loc = res.localization();
                    float[] logits = classifier.logits(res.purified()).toFloatArray();
                    for (int i = 0; i < to - from; i++) {
                        ok += LogitRows.argMax(logits, i, logits.length / (to - from)) == val.labels()[from + i]
                                ? 1 : 0;
                    }
                } else {
                    loc = defence.localizer().localize(x, defence.options().promptL(), new NoiseSource(seed + k));
                }
                float[] rm = loc.rawMask().toFloatArray();
                float[] fm = loc.mask().toFloatArray();
                for (int i = 0; i < to - from; i++) {
                    raw += MaskScores.overlap(rm, i * hw, val.masks(), (from + i) * hw, hw).iou();
                    refined += MaskScores.overlap(fm, i * hw, val.masks(), (from + i) * hw, hw).iou();
                }
            }
        }
        return new double[] {restoration ? (double) ok / n : Double.NaN, raw / n, refined / n};
    }
}
