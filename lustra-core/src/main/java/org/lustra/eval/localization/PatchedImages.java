package org.lustra.eval.localization;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.lustra.attack.AdvPatch;
import org.lustra.attack.AttackModel;
import org.lustra.attack.GdpaLike;
import org.lustra.attack.LaVan;
import org.lustra.attack.Patch;
import org.lustra.defense.diffender.PromptTuning.PatchedSet;

/**
 * Patched images with their true patch masks, the ground truth of localisation: from the project's patch attacks
 * (LaVAN per image, AdvP's universal patch at a seeded random place, the GDPA-like attack that also moves the patch),
 * or — for quick checks that need no classifier gradients — a uniform-random or a checkerboard square at a seeded
 * random place. All kinds use one square of {@code fraction} of the image ({@link Patch#side}).
 */
public final class PatchedImages {
    private PatchedImages() {}

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
    public static PatchedSet make(Kind kind, AttackModel model, Supplier<float[]> advpPatch, float[] clean,
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
