package org.lustra.attack;

import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;
import org.lustra.data.ImageSet;

/**
 * The attacks of this package as {@link Attack} values: each record holds the settings, builds its algorithm's
 * options with the seed of a run, and says how it describes itself. No defaults live here — the harness's registry
 * chooses them per profile.
 */
public final class Attacks {
    private Attacks() {}

    /**
     * Where AdvP gets its universal patch: trained (or loaded) for {@code attack}. The source trains through a target of
     * its own whose random draws (the defence's purifications included) derive from the patch's seed, never from the
     * stream of the run that happens to ask first: a patch is shared by every chunk of a cell, so its content must not
     * depend on which chunk trained it, nor on the order or the machine the chunks ran on.
     */
    @FunctionalInterface
    public interface PatchSource {
        float[] patch(AdvPatchAttack attack);
    }

    /**
     * An attack in an ℓp ball: its budget is its norm and ε (the record's components). Gradient-based unless the record
     * says otherwise.
     */
    public interface LpAttack extends Attack {
        Norm norm();

        double epsilon();

        @Override
        default Budget budget() {
            return Budget.lp(norm(), epsilon());
        }

        @Override
        default boolean blackBox() {
            return false;
        }
    }

    /**
     * A square-patch attack: its budget is the patch's area fraction (the record's component). Gradient-based unless
     * the record says otherwise.
     */
    public interface PatchAttack extends Attack {
        double fraction();

        @Override
        default Budget budget() {
            return Budget.patch(fraction());
        }

        @Override
        default boolean blackBox() {
            return false;
        }
    }

    /**
     * PGD on the cross-entropy ({@link Pgd}); FGSM is one step of size ε without random start. {@code stepSize} ≤ 0
     * means 2.5 ε / steps.
     */
    public record PgdAttack(String name, Norm norm, double epsilon, int steps, double stepSize, boolean randomStart)
            implements LpAttack {
        public Pgd.Options options(long seed) {
            return new Pgd.Options(norm, epsilon, steps, stepSize, randomStart, seed);
        }

        @Override
        public String iterations() {
            return !randomStart && steps == 1 ? "1 step"
                    : steps + " steps, " + (randomStart ? "random start" : "no random start");
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            return Outcome.of(Pgd.attack(model, x, labels, options(seed), null), model);
        }
    }

    /** APGD with one restart on {@code loss} (CE or DLR), {@link Apgd}. */
    public record ApgdAttack(String name, Norm norm, double epsilon, int steps, AttackModel.Loss loss)
            implements LpAttack {
        @Override
        public String iterations() {
            return steps + " iterations";
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            return Outcome.of(Apgd.attack(model, x, labels, null, new Apgd.Options(norm, epsilon, steps, loss, 1,
                    seed)), model);
        }
    }

    /** The black-box {@link Square} attack with p_init 0.8. */
    public record SquareAttack(Norm norm, double epsilon, int queries) implements LpAttack {
        @Override
        public String name() {
            return "square";
        }

        @Override
        public String iterations() {
            return queries + " queries";
        }

        @Override
        public boolean blackBox() {
            return true;
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            return Outcome.of(Square.attack(model, x, labels, new Square.Options(norm, epsilon, queries, 0.8, seed)),
                    model);
        }
    }

    /** {@link FabT} with 9 target classes (deterministic: the seed is not used). */
    public record FabTAttack(Norm norm, double epsilon, int steps) implements LpAttack {
        @Override
        public String name() {
            return "fab-t";
        }

        @Override
        public String iterations() {
            return steps + " iterations";
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            return Outcome.of(FabT.attack(model, x, labels, new FabT.Options(norm, epsilon, steps, 9)), model);
        }

        @Override
        public String randomizedNote() {
            return "; FAB-T's minimal-norm search reads single forwards (no EOT)";
        }
    }

    /**
     * {@link AutoAttack}, standard or rand, with 9 target classes. Both versions run their gradient attacks with at
     * least the model's own EOT copies (the route's; {@code eot} is the configured floor): the standard version used to
     * run with one copy against a randomised target while the route said "EOT N".
     */
    public record AutoAttackRun(AutoAttack.Version version, Norm norm, double epsilon, int steps, int queries,
            int eot) implements LpAttack {
        @Override
        public String name() {
            return version == AutoAttack.Version.STANDARD ? "autoattack" : "autoattack-rand";
        }

        public AutoAttack.Options options(AttackModel model, long seed) {
            int copies = Math.max(model.eot(), eot);
            return new AutoAttack.Options(version, norm, epsilon, steps, 9, queries, copies, seed);
        }

        @Override
        public String iterations() {
            return version == AutoAttack.Version.STANDARD
                    ? "standard: APGD-CE, APGD-T, FAB-T " + steps + " iterations, Square " + queries + " queries"
                    : "rand: APGD-CE, APGD-DLR " + steps + " iterations";
        }

        @Override
        public String randomizedNote() {
            return version == AutoAttack.Version.STANDARD ? "; FAB-T and Square read single forwards (no EOT)" : "";
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            return run(model, x, labels, seed, s -> { });
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed, Consumer<String> progress) {
            // its warnings come back in the outcome and the caller prints them with the chunk they belong to
            AutoAttack.Report r = AutoAttack.run(model, x, labels, options(model, seed), line -> {
                if (!line.startsWith("warning: ")) {
                    progress.accept(line);
                }
            });
            return new Outcome(r.adversarial(), null, r.forwardImages(), r.gradients(), r.warnings().stream()
                    .map(w -> new Warning("AutoAttack", w)).toList());
        }
    }

    /** The per-image {@link LaVan} patch, step 0.05. */
    public record LaVanAttack(double fraction, int steps) implements PatchAttack {
        @Override
        public String name() {
            return "lavan";
        }

        @Override
        public String iterations() {
            return steps + " iterations";
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            return Outcome.of(LaVan.attack(model, x, labels, new LaVan.Options(fraction, steps, 0.05, seed)), model);
        }
    }

    /**
     * The localiser-aware {@link EvadeLaVan} patch with its default settings; natural-crop starts from the first 1000
     * images of {@code sources} (null: from the other images of the batch).
     */
    public record EvadeLaVanAttack(double fraction, int steps, ImageSet sources) implements PatchAttack {
        /** What the route label of a detector-aware run says its gradient is. */
        public static final String GRADIENT = "evade-then-fool: gradients through the detector's soft mask "
                + "(DIFFender: the localiser's one-step UNet calls, EOT over its noise; SAC: the segmenter's "
                + "probability, exact; Jedi: its autoencoder, exact, on a kernel map passed straight through with a "
                + "soft-binned entropy's derivative) and the bare classifier on the patched image; the replacement "
                + "(restoration, inpainting) never enters the loop";

        @Override
        public String name() {
            return "evade-lavan";
        }

        @Override
        public String iterations() {
            EvadeLaVan.Options o = EvadeLaVan.Options.defaults(fraction, steps, 0);
            return String.format(Locale.ROOT, "%d Adam steps of %.3g from %d starts side by side (random, "
                    + "natural crop of %s, non-adaptive LaVAN patch), λ %.3g ×%.3g per detecting %s-vote check every %d"
                    + " steps (detected: mask covers > %.0f%% of the patch), margin capped at %.3g, best start per "
                    + "image by end-to-end votes", steps, o.learningRate(), o.starts().size(), sources == null
                    ? "another image of the batch" : "a training image", o.lambda(), o.lambdaGrowth(), "K",
                    o.checkEvery(), 100 * o.coverage(), o.kappa());
        }

        @Override
        public String randomizedNote() {
            return "; against a defence with a detector the gradient is the attack's own (" + GRADIENT + "), the route "
                    + "serves only the end-to-end K-vote check; without one, Adam on the CW margin through the route";
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            float[] src = null;
            if (sources != null) {
                try (NDManager s = NDManager.newBaseManager()) {
                    src = sources.batch(s, 0, Math.min(sources.size(), 1000)).toFloatArray();
                }
            }
            return Outcome.of(EvadeLaVan.attack(model, x, labels, src, EvadeLaVan.Options.defaults(fraction, steps,
                    seed)), model);
        }
    }

    /** {@link GdpaLike}: step 0.05, the patch moves every 5 steps within radius 3. */
    public record GdpaAttack(double fraction, int steps) implements PatchAttack {
        @Override
        public String name() {
            return "gdpa";
        }

        @Override
        public String iterations() {
            return steps + " iterations";
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            return Outcome.of(GdpaLike.attack(model, x, labels, new GdpaLike.Options(fraction, steps, 0.05, 5, 3,
                    seed)), model);
        }
    }

    /**
     * The universal {@link AdvPatch} pasted at a seeded random place: {@code target} a class index, -1 untargeted, or
     * null for the best of the per-class targeted patches on held-out training images. The patch itself comes from
     * {@code patches} (trained once, cached by the caller).
     */
    public record AdvPatchAttack(double fraction, int steps, Integer target, PatchSource patches)
            implements PatchAttack {
        /** Batch and step size of the patch training. */
        public static final int BATCH = 32;
        public static final double STEP_SIZE = 0.05;

        @Override
        public String name() {
            return "advp";
        }

        /** Whether the patch is the best of the per-class targeted ones ({@link AdvPatch#trainBest}). */
        public boolean bestOfClasses() {
            return target == null;
        }

        /** The training options with the patch's own seed. */
        public AdvPatch.Options training(long seed) {
            return new AdvPatch.Options(fraction, steps, BATCH, STEP_SIZE, seed,
                    target == null ? AdvPatch.UNTARGETED : target);
        }

        @Override
        public String iterations() {
            return (target == null ? "universal, targeted at the best of the classes on held-out training images"
                    : target < 0 ? "universal, untargeted" : "universal, targeted at class " + target)
                    + ", " + steps + " iterations of batch " + BATCH + " on training images, random placement";
        }

        @Override
        public boolean gradientsInRun() {
            return false; // pasting the trained patch takes no gradient
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            // the patch is trained once by its source, through a target of the source's own (its own streams and
            // counters): the one-off training's draws, gradient rows and forwards belong to no chunk, so a chunk's
            // record is the same whether its run trained the patch or loaded it (eval reproduce compares them)
            float[] patch = patches.patch(this);
            return Outcome.of(AdvPatch.apply(model, patch, x, labels, fraction, seed), model);
        }
    }

    /**
     * The black-box {@link RhdeLike} sticker: population 20, crossover 0.7, sources the first 1000 images of
     * {@code sources}.
     */
    public record RhdeAttack(double fraction, int generations, ImageSet sources) implements PatchAttack {
        @Override
        public String name() {
            return "rhde";
        }

        @Override
        public String iterations() {
            return "population 20, " + generations + " generations";
        }

        @Override
        public boolean blackBox() {
            return true;
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            int k = Math.min(sources.size(), 1000);
            float[] src;
            try (NDManager s = NDManager.newBaseManager()) {
                src = sources.batch(s, 0, k).toFloatArray();
            }
            return Outcome.of(RhdeLike.attack(model, x, labels, src, Arrays.copyOf(sources.labels(), k),
                    new RhdeLike.Options(fraction, 20, generations, 0.7, false, seed)), model);
        }
    }
}
