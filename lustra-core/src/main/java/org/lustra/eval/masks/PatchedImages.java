package org.lustra.eval.masks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.Locale;
import org.lustra.attack.Attack;
import org.lustra.attack.AttackModel;
import org.lustra.attack.Attacks;
import org.lustra.data.ImageSet;
import org.lustra.eval.AttackRegistry;
import org.lustra.eval.Experiment;
import org.lustra.eval.UniversalPatches;
import org.lustra.model.Classifier;
import org.lustra.util.Seed;

/**
 * Images with a patch of one of the harness's patch attacks (LaVAN, AdvP, GDPA-like; {@link AttackRegistry}, quick
 * profile unless {@code steps} is given) made against the bare classifier, with the true patch masks the attacks
 * return: the ground truth of mask quality and of threshold calibration. AdvP's universal patch is the best of the
 * per-class targeted patches trained on {@code patchTraining} images (never the images it is pasted into), cached in
 * {@code cache}.
 *
 * @param attack the attack's name and settings, for reports
 * @param clean the images before the attack (n·C·H·W)
 * @param labels their labels
 * @param patched the attacked images (n·C·H·W)
 * @param masks the true patch masks (n·H·W)
 * @param shape (C, H, W)
 */
public record PatchedImages(String attack, float[] clean, int[] labels, float[] patched, float[] masks, Shape shape) {
    /** Images per attack call (an attack's arrays stay small). */
    static final int CHUNK = 64;

    public int size() {
        return labels.length;
    }

    /**
     * Attacks images {@code indices} of {@code images} with {@code attack} ({@code lavan}, {@code advp}, {@code gdpa})
     * at area share {@code fraction}; {@code steps} null for the quick profile's iterations.
     */
    public static PatchedImages make(Classifier classifier, ImageSet images, int[] indices, String attack,
            double fraction, Integer steps, long seed, ImageSet patchTraining, Path cache) {
        int c = images.channels();
        int h = images.height();
        int w = images.width();
        int d = c * h * w;
        Experiment.AttackSpec spec = new Experiment.AttackSpec(attack, null, 0, steps, null, fraction, null, null);
        if (!AttackRegistry.isPatch(attack) || attack.equals("rhde")) {
            throw new IllegalArgumentException("Not a gradient patch attack: " + attack + " (lavan, advp, gdpa)");
        }
        int n = indices.length;
        float[] clean = new float[n * d];
        int[] labels = new int[n];
        float[] patched = new float[n * d];
        float[] masks = new float[n * h * w];
        for (int i = 0; i < n; i++) {
            System.arraycopy(images.imageFloats(indices[i]), 0, clean, i * d, d);
            labels[i] = images.label(indices[i]);
        }
        String name;
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel target = new AttackModel(classifier::logits, m, new Shape(c, h, w), 1);
            // AdvP's universal patch trains on the bare classifier, the model the patches are made against.
            Attacks.PatchSource source = a -> UniversalPatches.bestOfClasses(cache.resolve(String.format(Locale.ROOT,
                    "advp-%s-%.3f-%d-seed%d.json", classifier.name(), fraction, a.steps(), seed)), target,
                    patchTraining, Math.min(2000, patchTraining.size()), a.training(seed)).patch();
            Attack run = AttackRegistry.create(spec, AttackRegistry.Profile.QUICK,
                    new AttackRegistry.Context(patchTraining, source));
            name = run.name() + ": " + run.describe(h, w) + ", against " + classifier.name();
            for (int from = 0; from < n; from += CHUNK) {
                int to = Math.min(n, from + CHUNK);
                float[] x = java.util.Arrays.copyOfRange(clean, from * d, to * d);
                int[] y = java.util.Arrays.copyOfRange(labels, from, to);
                Attack.Outcome o = run.run(target, x, y, Seed.of(seed).child(attack).child(from).value());
                System.arraycopy(o.adversarial(), 0, patched, from * d, (to - from) * d);
                System.arraycopy(o.masks(), 0, masks, from * h * w, (to - from) * h * w);
            }
        }
        return new PatchedImages(name, clean,
                labels, patched, masks, new Shape(c, h, w));
    }

    /** Correctly classified images of {@code x} (n·C·H·W) by {@code classifier}, batched. */
    public static int correct(Classifier classifier, float[] x, int[] labels, Shape shape) {
        int d = Math.toIntExact(shape.size());
        int right = 0;
        try (NDManager m = NDManager.newBaseManager()) {
            for (int from = 0; from < labels.length; from += CHUNK) {
                int to = Math.min(labels.length, from + CHUNK);
                try (NDManager s = m.newSubManager()) {
                    NDArray in = s.create(java.util.Arrays.copyOfRange(x, from * d, to * d),
                            new Shape(to - from, shape.get(0), shape.get(1), shape.get(2)));
                    float[] z = classifier.logits(in).toFloatArray();
                    int k = z.length / (to - from);
                    for (int i = 0; i < to - from; i++) {
                        right += argMax(z, i * k, k) == labels[from + i] ? 1 : 0;
                    }
                }
            }
        }
        return right;
    }

    /** The class of one logit row, or -1 when any logit is not finite (no class, as the harness judges). */
    static int argMax(float[] z, int off, int k) {
        int best = 0;
        for (int j = 0; j < k; j++) {
            if (!Float.isFinite(z[off + j])) {
                return -1;
            }
            best = z[off + j] > z[off + best] ? j : best;
        }
        return best;
    }
}
