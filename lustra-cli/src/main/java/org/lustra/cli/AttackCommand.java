package org.lustra.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.lustra.attack.Attack;
import org.lustra.attack.AttackModel;
import org.lustra.attack.Attacks;
import org.lustra.attack.GradientCounts;
import org.lustra.attack.LogitRows;
import org.lustra.attack.Norm;
import org.lustra.attack.Pgd;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Purifier;
import org.lustra.defense.RecomputablePurifier;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.eval.AttackRegistry;
import org.lustra.eval.ExperimentRunner;
import org.lustra.model.Classifier;
import org.lustra.model.Classifiers;
import org.lustra.util.Seed;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "attack", description = "Run an attack on the shipped evaluation subset.", mixinStandardHelpOptions = true,
        subcommands = {AttackCommand.PgdCommand.class, AttackPatchCommand.class})
final class AttackCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "pgd", mixinStandardHelpOptions = true,
            description = {"White-box PGD (or FGSM with --steps 1 --no-random-start) on the first N images of "
                    + "eval512, against the classifier alone (exact gradients) or behind --defense: non-adaptive, or "
                    + "through the defence with --adaptive.",
                "Prints robust accuracy, the threat model and how healthy the gradients were; exits with status 3 "
                        + "when a non-finite image, logit or gradient was met (an error, not a result)."})
    static final class PgdCommand implements Callable<Integer> {
        @Option(names = {"--classifier", "--model"}, defaultValue = "classifier-resnet", description = "Classifier: "
                + "a shipped model, a model folder or a TorchScript file (default ${DEFAULT-VALUE}).")
        String model;

        @Option(names = "--norm", defaultValue = "linf", description = "linf or l2 (default ${DEFAULT-VALUE}).")
        String norm;

        @Option(names = "--eps", required = true, description = "Budget, e.g. 0.0313725 (8/255), 0.1, or 0.5 for l2.")
        double eps;

        @Option(names = "--steps", defaultValue = "" + AttackRegistry.QUICK_PGD_STEPS,
                description = "Iterations (default ${DEFAULT-VALUE}).")
        int steps;

        @Option(names = "--step-size", defaultValue = "0", description = "Step size (default 2.5·eps/steps).")
        double stepSize;

        @Option(names = "--no-random-start", description = "Start at the clean image.")
        boolean noRandomStart;

        @Option(names = "--images", defaultValue = "512", description = "eval512 images (default ${DEFAULT-VALUE}).")
        int images;

        @Option(names = "--seed", defaultValue = "1", description = "Seed (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--defense", description = "Defence in front of the classifier, any form `lustra purify "
                + "--help` lists (e.g. jpeg:75, median:3, diffpure:0.1:ddim10).")
        String defense;

        @Option(names = "--diffusion", defaultValue = DiffusionModel.DEFAULT, paramLabel = "NAME",
                description = "Diffusion model of a diffusion defence: a name under models/ or a model folder "
                        + "(default ${DEFAULT-VALUE}).")
        String diffusion;

        @Option(names = "--eot", defaultValue = "4", description = "EOT copies per gradient when an adaptive attack "
                + "meets a randomised defence (default ${DEFAULT-VALUE}); deterministic defences take 1.")
        int eot;

        @Option(names = "--votes", defaultValue = "3", description = "Fresh purifications that must confirm a success "
                + "of an adaptive attack on a randomised defence, by majority (default ${DEFAULT-VALUE}).")
        int votes;

        @Option(names = "--adaptive", description = "Attack through the defence: with its exact gradient when it has "
                + "one in a single graph (median smoothing), else BPDA (default: non-adaptive, the "
                + "attack sees only the classifier and its result is then fed through the defence).")
        boolean adaptive;

        @Override
        public Integer call() {
            Norm n = switch (norm.toLowerCase(Locale.ROOT)) {
                case "linf" -> Norm.LINF;
                case "l2" -> Norm.L2;
                default -> throw new IllegalArgumentException("Invalid --norm " + norm + " (linf or l2)");
            };
            Attacks.PgdAttack attack = AttackRegistry.pgd(n, eps, steps, stepSize, !noRandomStart);
            Pgd.Options opt = attack.options(seed);
            ImageSet eval = Subsets.load("eval512");
            requireValid(eval);
            DefenseSpec spec = defense == null ? DefenseSpec.NONE : DefenseSpec.parse(defense);
            Tally tally = new Tally();
            long t0 = System.nanoTime();
            String purifierName;
            String routeNote = "";
            GradientMode route;
            try (DefenseFactory defenses = new DefenseFactory(diffusion); Classifier c = Classifiers.open(model);
                    NDManager nd = NDManager.newBaseManager()) {
                ExperimentRunner.Inputs.requireFits(c, eval);
                Purifier purifier = defenses.create(spec, c);
                purifierName = purifier.name();
                if (adaptive && purifier.randomized()) {
                    routeNote = String.format(Locale.ROOT, ", EOT %d, full length, successes confirmed by %d fresh "
                            + "purifications; scored on one fresh purification", eot, votes);
                }
                route = routeFor(purifier);
                GradientMode attackRoute = route;
                DefendedClassifier defended = new DefendedClassifier(purifier, c);
                // the attack's purifications and the judging ones draw from independent streams: a randomised
                // defence must not be judged with the very randomness the attack was optimised against
                AtomicLong attackCalls = new AtomicLong(Seed.of(seed).child("attack-purification").value());
                Function<NDArray, NDArray> target = adaptive
                        ? x -> defended.logits(x, attackRoute, attackCalls.incrementAndGet()) : c::logits;
                attackAll(eval, attack, target, defended, adaptive && purifier.randomized(), tally, nd);
            }
            System.err.println();
            double sec = (System.nanoTime() - t0) / 1e9;
            String defended = spec.none() ? "undefended " + model : purifierName
                    + (spec.usesDiffusionModel() ? " on " + diffusion : "") + " -> " + model;
            String gradient = spec.none() ? "EXACT" : adaptive ? route + " through the defence (adaptive" + routeNote
                    + ")" : "EXACT on the classifier only (non-adaptive)";
            printResult(tally, defended, n, opt.stepSize(), gradient, sec);
            return tally.report();
        }

        /**
         * Attacks the first {@code images} eval512 images in chunks of 128 and judges each chunk on a fresh purification
         * (its own seed). A randomised defence under an adaptive attack gets EOT gradients, no stop at a first lucky
         * success (full length, best EOT objective kept) and successes confirmed by K votes.
         */
        private void attackAll(ImageSet eval, Attacks.PgdAttack attack, Function<NDArray, NDArray> target,
                DefendedClassifier defended, boolean randomized, Tally tally, NDManager nd) {
            for (int from = 0; from < images; from += 128) {
                int to = Math.min(images, from + 128);
                long judgeSeed = Seed.of(seed).child("judge").child(from).value();
                Function<NDArray, NDArray> judge = x -> defended.logits(x, GradientMode.BPDA, judgeSeed);
                try (NDManager m = nd.newSubManager()) {
                    NDArray x = eval.batch(m, from, to);
                    int[] y = Arrays.copyOfRange(eval.labels(), from, to);
                    AttackModel am = new AttackModel(target, null, m, x.getShape().slice(1),
                            randomized ? eot : 1, randomized, randomized ? votes : 1);
                    float[] clean = x.toFloatArray();
                    Attack.Outcome o = attack.run(am, clean, y, seed);
                    float[] adversarial = tally.keepFinite(o, clean, y.length);
                    tally.judge(judge.apply(x).toFloatArray(),
                            judge.apply(m.create(adversarial, x.getShape())).toFloatArray(), y);
                }
                System.err.printf(Locale.ROOT, "\rattack pgd %d/%d images", tally.total, images);
            }
        }

        /** One sentence per bad option value, before any model is loaded. */
        private void requireValid(ImageSet eval) {
            if (images < 1 || images > eval.size()) {
                throw new IllegalArgumentException("Invalid --images " + images + " (1.." + eval.size() + ")");
            }
            if (eot < 1 || votes < 1) {
                throw new IllegalArgumentException("Invalid --eot " + eot + " / --votes " + votes
                        + ": both must be at least 1.");
            }
            if (adaptive && defense == null) {
                throw new IllegalArgumentException("--adaptive needs a --defense to attack through");
            }
        }

        /**
         * EXACT where the purifier is one graph; a long chain (DiffPure) would need step-wise recomputation, which
         * the harness (eval run) does: here it gets BPDA.
         */
        private static GradientMode routeFor(Purifier purifier) {
            return purifier.gradientModes().contains(GradientMode.EXACT) && !(purifier instanceof RecomputablePurifier)
                    ? GradientMode.EXACT : GradientMode.BPDA;
        }

        /** Accuracy, then the threat model line every robustness number must carry. */
        private void printResult(Tally tally, String defended, Norm n, double stepSizeUsed, String gradient,
                double seconds) {
            int total = tally.total;
            System.out.printf(Locale.ROOT, "clean accuracy %.2f%%, robust accuracy %.2f%% (%d/%d)%n",
                    100.0 * tally.cleanOk / total, 100.0 * tally.robust / total, tally.robust, total);
            System.out.printf(Locale.ROOT, "threat model: white-box, %s; PGD %s eps=%.4f, %d steps of %.4f, %s; "
                    + "gradient mode %s; %d eval512 images (the subset classifier-resnet classifies correctly); "
                    + "%.1f ms/image%n", defended,
                    n == Norm.LINF ? "l-inf" : "l2", eps, steps, stepSizeUsed,
                    noRandomStart ? "no random start" : "random start (seed " + seed + ")", gradient, total,
                    1000 * seconds / total);
        }
    }

    /**
     * What the images of one run came to. A non-finite value is an error, never a result: an adversarial image with a
     * non-finite pixel is a failed attack (its clean image is judged instead), a judge answer with a non-finite logit
     * is no class (wrong), and either makes the command end with a warning and exit status 3.
     */
    static final class Tally {
        int cleanOk;
        int robust;
        int total;
        int brokenImages;
        int nonFiniteAnswers;
        GradientCounts gradients = GradientCounts.NONE;

        /** The attack's images with every non-finite one replaced by its clean image (counted). */
        float[] keepFinite(Attack.Outcome o, float[] clean, int n) {
            gradients = gradients.plus(o.gradients());
            float[] adv = o.adversarial().clone();
            int d = adv.length / n;
            for (int i = 0; i < n; i++) {
                for (int j = i * d; j < (i + 1) * d; j++) {
                    if (!Float.isFinite(adv[j])) {
                        System.arraycopy(clean, i * d, adv, i * d, d);
                        brokenImages++;
                        break;
                    }
                }
            }
            return adv;
        }

        /** Scores one batch from the judge's logits (N·K each) on the clean and the adversarial images. */
        void judge(float[] cleanLogits, float[] advLogits, int[] y) {
            int k = cleanLogits.length / y.length;
            for (int i = 0; i < y.length; i++) {
                cleanOk += predicted(cleanLogits, i, k) == y[i] ? 1 : 0;
                robust += predicted(advLogits, i, k) == y[i] ? 1 : 0;
            }
            total += y.length;
        }

        private int predicted(float[] logits, int i, int k) {
            if (!LogitRows.finiteRow(logits, i, k)) {
                nonFiniteAnswers++;
                return -1;
            }
            return LogitRows.argMax(logits, i, k);
        }

        /** Prints the gradient health and any non-finite value; the exit status (0, or 3 after a non-finite value). */
        int report() {
            System.out.printf(Locale.ROOT, "gradient rows: %d (%d non-finite: no step taken; %d exactly zero)%n",
                    gradients.rows(), gradients.nonFinite(), gradients.zero());
            if (brokenImages + nonFiniteAnswers + gradients.nonFinite() == 0) {
                return 0;
            }
            System.err.printf(Locale.ROOT, "Warning: %d adversarial image(s) with non-finite pixels (counted as failed "
                    + "attacks), %d judge answer(s) with non-finite logits (counted wrong) and %d non-finite gradient "
                    + "row(s): a non-finite value is an error in the gradient route or the defence, not a result — "
                    + "do not quote these numbers; rerun with another --defense or report it.%n", brokenImages,
                    nonFiniteAnswers, gradients.nonFinite());
            return 3;
        }
    }
}
