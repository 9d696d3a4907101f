package org.lustra.attack;

import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * One configured attack as a value: it runs on an {@link AttackModel} (whose route, EOT copies and confirmation votes
 * the caller chose) and describes its own budget and iterations, so the text a report prints comes from the object
 * that ran. Settings are fixed at construction; the random stream of each run is its {@code seed}. Instances come from
 * {@link Attacks}; the evaluation harness's registry (eval.AttackRegistry) owns the defaults per profile.
 */
public interface Attack {

    /** The registry name, e.g. {@code pgd}, {@code autoattack-rand}, {@code advp}. */
    String name();

    /** The threat model's budget. */
    Budget budget();

    /** How long it runs, e.g. {@code 20 steps, random start} or {@code 1000 queries}. */
    String iterations();

    /** True when the attack needs no gradient (logits or predictions only). */
    boolean blackBox();

    /**
     * True when {@link #run} takes input gradients, so a chunk's record counts gradient rows: not for black-box attacks,
     * nor for one whose gradients are spent once outside every run (AdvP trains its universal patch at its source).
     */
    default boolean gradientsInRun() {
        return !blackBox();
    }

    /**
     * What the route's label cannot know and a reader must: how this attack departs from "EOT N, full length, best
     * objective kept" against a randomised target (text starting with "; "), or empty.
     */
    default String randomizedNote() {
        return "";
    }

    /** Attacks the n images {@code x} (flat, in [0, 1]) with true {@code labels}, drawing from {@code seed}. */
    Outcome run(AttackModel model, float[] x, int[] labels, long seed);

    /**
     * As {@link #run(AttackModel, float[], int[], long)}, telling {@code progress} what it finished along the way
     * (an ensemble's stages: AutoAttack's Square alone can take hours on robust images, and a run that prints nothing
     * looks hung). Attacks with one stage say nothing; the caller reports their end.
     */
    default Outcome run(AttackModel model, float[] x, int[] labels, long seed, Consumer<String> progress) {
        return run(model, x, labels, seed);
    }

    /** Budget and iterations as one line, e.g. {@code linf eps=0.0314, 20 steps, random start}. */
    default String describe(int height, int width) {
        return budget().describe(height, width) + ", " + iterations();
    }

    /**
     * An ℓp ball (norm and ε) or a square patch (its area fraction; {@code norm} null).
     */
    record Budget(Norm norm, double epsilon, double fraction) {
        public static Budget lp(Norm norm, double epsilon) {
            return new Budget(norm, epsilon, 0);
        }

        public static Budget patch(double fraction) {
            return new Budget(null, 0, fraction);
        }

        public boolean isPatch() {
            return norm == null;
        }

        /** E.g. {@code linf eps=0.0314} or {@code patch 5.0% of the image (6 px side)} on h×w images. */
        public String describe(int height, int width) {
            return isPatch() ? String.format(Locale.ROOT, "patch %.1f%% of the image (%d px side)", 100 * fraction,
                    Patch.side(fraction, height, width))
                    : String.format(Locale.ROOT, "%s eps=%.4f", norm.name().toLowerCase(Locale.ROOT), epsilon);
        }
    }

    /** Something the attack noticed that a reader of the results should see (e.g. AutoAttack's masking checks). */
    record Warning(String source, String message) {}

    /**
     * What one run produced.
     *
     * @param adversarial the final inputs, flat (N·C·H·W)
     * @param masks patch attacks: the true patch masks, flat (N·H·W); else null
     * @param forwardImages images passed through the target (EOT copies counted)
     * @param gradients the health of the gradients the run computed
     */
    record Outcome(float[] adversarial, float[] masks, long forwardImages, GradientCounts gradients,
            List<Warning> warnings) {
        public Outcome {
            warnings = warnings == null ? List.of() : List.copyOf(warnings);
        }

        /** An ℓp attack's result on {@code model} (its gradient counters so far). */
        public static Outcome of(AttackResult r, AttackModel model) {
            return new Outcome(r.adversarial(), null, r.forwardImages(), GradientCounts.of(model), List.of());
        }

        /** A patch attack's result on {@code model} (its gradient counters so far). */
        public static Outcome of(Patch.Result r, AttackModel model) {
            return new Outcome(r.adversarial(), r.masks(), r.forwardImages(), GradientCounts.of(model), List.of());
        }
    }
}
