package org.lustra.eval.masks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.lustra.attack.AdvPatch;
import org.lustra.attack.Attack;
import org.lustra.attack.AttackModel;
import org.lustra.attack.Attacks;
import org.lustra.attack.GdpaLike;
import org.lustra.attack.LaVan;
import org.lustra.attack.Patch;
import org.lustra.data.ImageSet;
import org.lustra.defense.diffender.PromptTuning.PatchedSet;
import org.lustra.eval.AttackRegistry;
import org.lustra.eval.Experiment;
import org.lustra.eval.UniversalPatches;
import org.lustra.model.Classifier;
import org.lustra.util.Seed;

/**
 * Patched images with their true patch masks, the ground truth of every mask measurement; one class for mask quality,
 * threshold calibration, the localisation sweep and prompt tuning, with two makers. {@link #make} uses one of the
 * harness's patch attacks (LaVAN, AdvP, GDPA-like; {@link AttackRegistry}, quick profile unless {@code steps} is given)
 * made against the bare classifier, AdvP's universal patch being the best of the per-class targeted patches trained on
 * {@code patchTraining} images (never the images it is pasted into), cached in {@code cache}: a record of this type.
 * {@link #makeSet} calls the attacks with explicit settings (LaVAN per image, AdvP's given universal patch at a seeded
 * random place, the GDPA-like attack that also moves the patch) or — for quick checks that need no classifier
 * gradients — pastes a uniform-random or a checkerboard square at a seeded random place, all one square of
 * {@code fraction} of the image ({@link Patch#side}): a {@link PatchedSet} as DIFFender's localisation and prompt
 * tuning take it.
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
        return make(classifier, images, indices, attack, fraction, steps, seed, patchTraining, cache, false);
    }

    /**
     * As {@link #make(Classifier, ImageSet, int[], String, double, Integer, long, ImageSet, Path)}; {@code fullLength}
     * runs every iteration and keeps the best objective, as the harness's non-adaptive cells do against a randomised
     * defence, instead of stopping each image at its first success: early-stopped patches are weaker, and a choice
     * made on them can miss what matters against the harness's (3 December, {@code docs/results/diffender-paired-lavan12}).
     */
    public static PatchedImages make(Classifier classifier, ImageSet images, int[] indices, String attack,
            double fraction, Integer steps, long seed, ImageSet patchTraining, Path cache, boolean fullLength) {
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
            // randomized = full length with one confirming vote: the classifier itself is deterministic
            AttackModel target = new AttackModel(classifier::logits, null, m, new Shape(c, h, w), 1, fullLength, 1);
            // AdvP's universal patch trains on the bare classifier, the model the patches are made against; its
            // training never stops early, so one cached patch serves both lengths
            AttackModel plain = new AttackModel(classifier::logits, m, new Shape(c, h, w), 1);
            Attacks.PatchSource source = a -> UniversalPatches.bestOfClasses(cache.resolve(String.format(Locale.ROOT,
                    "advp-%s-%.3f-%d-seed%d.json", classifier.name(), fraction, a.steps(), seed)), plain,
                    patchTraining, Math.min(2000, patchTraining.size()), a.training(seed)).patch();
            Attack run = AttackRegistry.create(spec, AttackRegistry.Profile.QUICK,
                    new AttackRegistry.Context(patchTraining, source));
            name = run.name() + ": " + run.describe(h, w) + ", against " + classifier.name()
                    + (attack.equals("advp") ? "" : fullLength ? ", full length (best objective kept)"
                            : ", each image stopped at its first success");
            for (int from = 0; from < n; from += CHUNK) {
                int to = Math.min(n, from + CHUNK);
                float[] x = Arrays.copyOfRange(clean, from * d, to * d);
                int[] y = Arrays.copyOfRange(labels, from, to);
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
                    NDArray in = s.create(Arrays.copyOfRange(x, from * d, to * d),
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

    /** What is pasted. */
    public enum Kind {
        LAVAN, ADVP, GDPA, RANDOM, CHECKERBOARD;

        /** Lower-case name for files, tables and CLI options. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** From a CLI word (case-insensitive); the sentence names the allowed words. */
        public static Kind parse(String word) {
            for (Kind k : values()) {
                if (k.id().equals(word.trim().toLowerCase(Locale.ROOT))) {
                    return k;
                }
            }
            throw new IllegalArgumentException("Unknown patch kind '" + word + "'; use one of lavan, advp, gdpa, "
                    + "random, checkerboard");
        }

        /** Kinds that need the classifier (attacks). */
        public boolean attack() {
            return this == LAVAN || this == ADVP || this == GDPA;
        }
    }

    /**
     * Patches every image of {@code clean} (flat N·C·H·W in [0, 1]) with one kind.
     *
     * @param model the attacked classifier (unused for RANDOM and CHECKERBOARD; may then be null)
     * @param advpPatch AdvP's universal patch (C·s·s), asked for only for ADVP (training it is the caller's cost)
     * @param steps iterations of LaVAN and the GDPA-like attack
     * @param seed placement (and attack) seed
     */
    public static PatchedSet makeSet(Kind kind, AttackModel model, Supplier<float[]> advpPatch, float[] clean,
            int[] labels, int channels, int size, double fraction, int steps, long seed) {
        Patch.Result r = switch (kind) {
            case LAVAN -> LaVan.attack(model, clean, labels, new LaVan.Options(fraction, steps, 0.05, seed));
            case GDPA -> GdpaLike.attack(model, clean, labels, new GdpaLike.Options(fraction, steps, 0.05, 5, 3,
                    seed));
            case ADVP -> AdvPatch.apply(model, advpPatch.get(), clean, labels, fraction, seed);
            case RANDOM, CHECKERBOARD -> synthetic(kind, clean, labels.length, channels, size, fraction, seed);
        };
        return new PatchedSet(r.adversarial(), clean.clone(), r.masks(), labels.clone());
    }

    /** A uniform-random or checkerboard square at a seeded random place per image; nothing is attacked. */
    static Patch.Result synthetic(Kind kind, float[] clean, int n, int c, int size, double fraction, long seed) {
        int s = Patch.side(fraction, size, size);
        int d = c * size * size;
        float[] adv = clean.clone();
        float[] masks = new float[n * size * size];
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            int row = rng.nextInt(size - s + 1);
            int col = rng.nextInt(size - s + 1);
            for (int a = 0; a < s; a++) {
                for (int b = 0; b < s; b++) {
                    masks[i * size * size + (row + a) * size + col + b] = 1f;
                    for (int ch = 0; ch < c; ch++) {
                        adv[i * d + (ch * size + row + a) * size + col + b] = kind == Kind.CHECKERBOARD
                                ? ((a + b) % 2 == 0 ? 1f : 0f) : (float) rng.nextDouble();
                    }
                }
            }
        }
        return new Patch.Result(adv, masks, new boolean[n], 0);
    }

    /** The rows of {@code sets} one after the other. */
    public static PatchedSet concat(PatchedSet... sets) {
        float[] adv = new float[0];
        float[] clean = new float[0];
        float[] masks = new float[0];
        int[] labels = new int[0];
        for (PatchedSet p : sets) {
            adv = join(adv, p.adversarial());
            clean = join(clean, p.clean());
            masks = join(masks, p.masks());
            int[] l = Arrays.copyOf(labels, labels.length + p.size());
            System.arraycopy(p.labels(), 0, l, labels.length, p.size());
            labels = l;
        }
        return new PatchedSet(adv, clean, masks, labels);
    }

    private static float[] join(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
