package org.lustra.attack;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * AutoAttack (Croce and Hein, ICML 2020): a parameter-free ensemble reported as the worst case per point. Each attack
 * runs only on the points all earlier ones failed on.
 * <ul>
 *   <li>{@code standard}: APGD-CE → APGD-T (targeted DLR, top 9 targets) → FAB-T (top 9 targets) → Square
 *       (5000 queries), all 100 iterations, one restart;</li>
 *   <li>{@code rand} (randomised defences): APGD-CE and APGD-DLR with EOT over 20 copies.</li>
 * </ul>
 * As in the reference, the run checks and warns about: randomness in the outputs (use {@code rand}), outputs that look
 * like probabilities, zero or non-finite gradients at the clean points (gradient masking or a broken backward), and
 * the black-box Square attack fooling points that the white-box attacks did not (a classic sign of gradient masking).
 * Finally every adversarial input is re-checked: it must lie in the ε-ball and be misclassified by a plain forward.
 */
public final class AutoAttack {

    public enum Version { STANDARD, RAND }

    /** Settings; {@link #standard} and {@link #rand} give the reference budgets. */
    public record Options(Version version, Norm norm, double epsilon, int steps, int targetClasses,
            int squareQueries, int eotCopies, long seed) {
        public Options {
            if (version == null || norm == null || !(epsilon > 0) || steps < 1 || targetClasses < 1
                    || squareQueries < 1 || eotCopies < 1) {
                throw new IllegalArgumentException("Invalid AutoAttack: epsilon " + epsilon + ", steps " + steps
                        + ", targets " + targetClasses + ", square queries " + squareQueries + ", EOT "
                        + eotCopies + " (need epsilon > 0 and positive counts)");
            }
        }

        public static Options standard(Norm norm, double epsilon, long seed) {
            return new Options(Version.STANDARD, norm, epsilon, 100, 9, 5000, 1, seed);
        }

        public static Options rand(Norm norm, double epsilon, long seed) {
            return new Options(Version.RAND, norm, epsilon, 100, 9, 5000, 20, seed);
        }

        public String describe() {
            return String.format(Locale.ROOT, "AutoAttack-%s %s eps=%.4f (%d iterations%s)",
                    version.name().toLowerCase(Locale.ROOT), norm.label(), epsilon, steps,
                    version == Version.STANDARD ? ", " + targetClasses + " targets, Square " + squareQueries
                            + " queries" : ", EOT " + eotCopies);
        }
    }

    /**
     * @param fooledBy per sample: the attack that first fooled it, "clean" if already misclassified, null if robust
     * @param robustAfter robust accuracy after each attack, in order
     * @param seconds wall time of each attack
     */
    public record Report(float[] adversarial, boolean[] fooled, String[] fooledBy, Map<String, Double> robustAfter,
            Map<String, Double> seconds, List<String> warnings, long forwardImages, GradientCounts gradients) {
        public double robustAccuracy() {
            int r = 0;
            for (boolean f : fooled) {
                r += f ? 0 : 1;
            }
            return fooled.length == 0 ? 0 : (double) r / fooled.length;
        }
    }

    private AutoAttack() {}

    /**
     * Runs the ensemble on the n images {@code x} (flat, [0, 1]) against {@code logits}, whose scratch arrays live in
     * sub-managers of {@code parent}. {@code log} receives one line per attack.
     */
    public static Report run(Function<NDArray, NDArray> logits, NDManager parent, Shape imageShape, float[] x,
            int[] labels, Options opt, Consumer<String> log) {
        return run(logits, null, parent, imageShape, x, labels, opt, log);
    }

    /** As above, with gradients from {@code oracle} when it is not null (see {@link AttackModel.GradientOracle}). */
    public static Report run(Function<NDArray, NDArray> logits, AttackModel.GradientOracle oracle, NDManager parent,
            Shape imageShape, float[] x, int[] labels, Options opt, Consumer<String> log) {
        return run(new AttackModel(logits, oracle, parent, imageShape, 1), x, labels, opt, log);
    }

    /**
     * Runs against {@code target} (its route, and whether it is randomised with how many confirmation votes; its EOT
     * setting is replaced by 1 for the standard version and {@code opt.eotCopies()} for the rand version). Against a
     * randomised target a point leaves the pool only when K fresh evaluations confirm it, and the final re-check keeps
     * only confirmed points.
     */
    public static Report run(AttackModel target, float[] x, int[] labels, Options opt, Consumer<String> log) {
        AttackModel plain = target.withEot(1);
        // EOT for every gradient attack (APGD-CE, APGD-DLR, APGD-T) whenever copies are asked for, in both versions:
        // the standard version against a randomised target used to run them with one copy while labelled "EOT N".
        // FAB-T and Square read single forwards; their successes are confirmed by K votes.
        AttackModel eot = opt.eotCopies() > 1 ? target.withEot(opt.eotCopies()) : plain;
        int d = plain.imageSize();
        List<String> warnings = new ArrayList<>(checks(plain, x, labels, opt));
        warnings.forEach(w -> log.accept("warning: " + w));
        Consumer<String> warn = w -> {
            warnings.add(w);
            log.accept("warning: " + w);
        };

        // "already wrong on the clean image" is decided like every other success: by K fresh evaluations of a
        // randomised target (one forward of a deterministic one), not by one lucky draw
        Pool pool = new Pool(x, d, plain.confirmFooled(x, labels.length, labels));
        Map<String, Double> robustAfter = new LinkedHashMap<>();
        Map<String, Double> seconds = new LinkedHashMap<>();
        robustAfter.put("clean", robust(pool.fooled));
        SplittableRandom seeds = new SplittableRandom(opt.seed());
        for (String name : opt.version() == Version.STANDARD ? List.of("apgd-ce", "apgd-t", "fab-t", "square")
                : List.of("apgd-ce", "apgd-dlr")) {
            long attackSeed = seeds.nextLong();
            int[] todo = Apgd.remaining(pool.fooled);
            long t0 = System.nanoTime();
            if (todo.length > 0) {
                float[] xs = Apgd.gather(x, todo, d);
                AttackResult r = attackOne(name, plain, eot, xs, Apgd.gather(labels, todo), opt, attackSeed);
                // against a randomised target an unconfirmed APGD point is handed on as its best-EOT-objective
                // iterate, not the clean image (APGD-T and FAB-T return the clean image for points they did not
                // fool, Square a point found from single forwards): the caller's K-vote scoring may still find it
                // wrong
                pool.take(name, r, todo, xs,
                        plain.randomized() && (name.equals("apgd-ce") || name.equals("apgd-dlr")), opt);
                long found = name.equals("square") ? Arrays.stream(todo).filter(i -> pool.fooled[i]).count() : 0;
                if (found > 0) {
                    warn.accept("Square (black-box) fooled " + found + " point(s) that the white-box attacks did not: "
                            + "the gradients may be masked or obfuscated; do not trust gradient-based numbers for "
                            + "this target.");
                }
            }
            double sec = (System.nanoTime() - t0) / 1e9;
            seconds.put(name, sec);
            robustAfter.put(name, robust(pool.fooled));
            log.accept(String.format(Locale.ROOT, "%-9s robust accuracy %.2f%% (%d points attacked, %.1f s)", name,
                    100 * robust(pool.fooled), todo.length, sec));
        }
        // Re-check every success with a plain forward and the budget; a failed check is reported, not hidden.
        Rejected rejected = pool.recheck(plain.confirmFooled(pool.adv, labels.length, labels), opt);
        if (rejected.outside() + rejected.notFooled() > 0) {
            warn.accept("Re-check rejected " + (rejected.outside() + rejected.notFooled()) + " adversarial example(s) ("
                    + rejected.outside() + " outside the eps-ball, " + rejected.notFooled()
                    + " classified correctly on a plain forward"
                    + (opt.version() == Version.RAND ? ", expected for a randomised target" : "") + ")");
        }
        return new Report(pool.adv, pool.fooled, pool.by, robustAfter, seconds, warnings,
                plain.forwardImages() + (eot == plain ? 0 : eot.forwardImages()),
                GradientCounts.of(plain).plus(eot == plain ? GradientCounts.NONE : GradientCounts.of(eot)));
    }

    /** One attack of the ensemble on the points still robust ({@code xs}, labels {@code ys}). */
    private static AttackResult attackOne(String name, AttackModel plain, AttackModel eot, float[] xs, int[] ys,
            Options opt, long seed) {
        return switch (name) {
            case "apgd-ce" -> Apgd.attack(eot, xs, ys, null, new Apgd.Options(opt.norm(), opt.epsilon(),
                    opt.steps(), AttackModel.Loss.CE, 1, seed));
            case "apgd-dlr" -> Apgd.attack(eot, xs, ys, null, new Apgd.Options(opt.norm(), opt.epsilon(),
                    opt.steps(), AttackModel.Loss.DLR, 1, seed));
            case "apgd-t" -> apgdTargeted(eot, xs, ys, opt, seed);
            case "fab-t" -> FabT.attack(plain, xs, ys, new FabT.Options(opt.norm(), opt.epsilon(),
                    opt.steps(), opt.targetClasses()));
            case "square" -> Square.attack(plain, xs, ys, new Square.Options(opt.norm(), opt.epsilon(),
                    opt.squareQueries(), 0.8, seed));
            default -> throw new IllegalStateException(name);
        };
    }

    /** Within the budget, with the tolerance every check of the ensemble uses. */
    private static boolean inBall(Options opt, float[] a, float[] b, int offset, int d) {
        return opt.norm().distance(a, b, offset, d) <= opt.epsilon() * (1 + 1e-4) + 1e-6;
    }

    /** Successes the final re-check took back: outside the ε-ball, or classified correctly on a plain forward. */
    private record Rejected(int outside, int notFooled) {}

    /** The ensemble's state per point: the input handed on, whether it is fooled, and by which attack. */
    private static final class Pool {
        private final float[] clean;
        private final int d;
        final float[] adv;
        final boolean[] fooled;
        final String[] by;

        Pool(float[] x, int d, boolean[] cleanWrong) {
            this.clean = x;
            this.d = d;
            this.adv = x.clone();
            this.fooled = new boolean[cleanWrong.length];
            this.by = new String[cleanWrong.length];
            for (int i = 0; i < cleanWrong.length; i++) {
                if (cleanWrong[i]) {
                    fooled[i] = true;
                    by[i] = "clean";
                }
            }
        }

        /** Takes attack {@code name}'s result on points {@code todo}; keeps in-ball iterates when asked to. */
        void take(String name, AttackResult r, int[] todo, float[] xs, boolean keepUnconfirmed, Options opt) {
            for (int i = 0; i < todo.length; i++) {
                if (r.fooled()[i]) {
                    fooled[todo[i]] = true;
                    by[todo[i]] = name;
                    System.arraycopy(r.adversarial(), i * d, adv, todo[i] * d, d);
                } else if (keepUnconfirmed && inBall(opt, r.adversarial(), xs, i * d, d)) {
                    System.arraycopy(r.adversarial(), i * d, adv, todo[i] * d, d);
                }
            }
        }

        /**
         * Re-checks every success against a plain forward ({@code confirmed}) and the budget; unfools the ones that
         * fail and says how many failed which way.
         */
        Rejected recheck(boolean[] confirmed, Options opt) {
            int outside = 0;
            int notFooled = 0;
            for (int i = 0; i < fooled.length; i++) {
                if (!fooled[i] || "clean".equals(by[i])) {
                    continue;
                }
                boolean inBall = inBall(opt, adv, clean, i * d, d);
                if (!inBall || !confirmed[i]) {
                    fooled[i] = false;
                    by[i] = null;
                    outside += inBall ? 0 : 1;
                    notFooled += confirmed[i] ? 0 : 1;
                    if (!inBall) {
                        // outside the threat model: never hand it on
                        System.arraycopy(clean, i * d, adv, i * d, d);
                    }
                    // in the ball but not fooling this forward (a randomised target): keep it, the caller's K-sample
                    // evaluation decides
                }
            }
            return new Rejected(outside, notFooled);
        }
    }

    private static AttackResult apgdTargeted(AttackModel model, float[] x, int[] y, Options opt, long seed) {
        int n = y.length;
        int d = model.imageSize();
        float[] clean = model.logits(x, n);
        int k = clean.length / n;
        float[] out = x.clone();
        boolean[] fooled = new boolean[n];
        long before = model.forwardImages();
        SplittableRandom seeds = new SplittableRandom(seed);
        for (int rank = 1; rank <= Math.min(opt.targetClasses(), k - 1); rank++) {
            int[] todo = Apgd.remaining(fooled);
            if (todo.length == 0) {
                break;
            }
            int[] ts = new int[todo.length];
            for (int i = 0; i < todo.length; i++) {
                ts[i] = FabT.rankedClass(clean, todo[i], k, rank);
            }
            AttackResult r = Apgd.attack(model, Apgd.gather(x, todo, d), Apgd.gather(y, todo), ts,
                    new Apgd.Options(opt.norm(), opt.epsilon(), opt.steps(), AttackModel.Loss.DLR_TARGETED, 1,
                            seeds.nextLong()));
            for (int i = 0; i < todo.length; i++) {
                if (r.fooled()[i]) {
                    fooled[todo[i]] = true;
                    System.arraycopy(r.adversarial(), i * d, out, todo[i] * d, d);
                }
            }
        }
        return new AttackResult(out, fooled, model.forwardImages() - before);
    }

    private static double robust(boolean[] fooled) {
        int r = 0;
        for (boolean f : fooled) {
            r += f ? 0 : 1;
        }
        return fooled.length == 0 ? 0 : (double) r / fooled.length;
    }

    /** AutoAttack's sanity checks on (up to 64 of) the clean points. */
    static List<String> checks(AttackModel model, float[] x, int[] labels, Options opt) {
        List<String> w = new ArrayList<>();
        int n = Math.min(labels.length, 64);
        int d = model.imageSize();
        float[] xs = Arrays.copyOf(x, n * d);
        int[] ys = Arrays.copyOf(labels, n);
        float[] a = model.logits(xs, n);
        float[] b = model.logits(xs, n);
        double diff = 0;
        for (int j = 0; j < a.length; j++) {
            diff = Math.max(diff, Math.abs(a[j] - b[j]));
        }
        if (diff > 1e-5 && opt.version() == Version.STANDARD) {
            w.add(String.format(Locale.ROOT, "Randomness detected (two forwards differ by up to %.3g): use version "
                    + "'rand' (EOT) and the K-sample evaluation protocol.", diff));
        }
        int k = a.length / n;
        boolean probabilities = true;
        for (int i = 0; i < n && probabilities; i++) {
            double s = 0;
            for (int j = 0; j < k; j++) {
                s += a[i * k + j];
                probabilities &= a[i * k + j] >= 0;
            }
            probabilities &= Math.abs(s - 1) < 1e-4;
        }
        if (probabilities) {
            w.add("The outputs look like probabilities (non-negative, rows sum to 1): AutoAttack expects logits; "
                    + "DLR and the margins are not meaningful on probabilities.");
        }
        AttackModel.Evaluation ev = model.evaluate(xs, n, AttackModel.Loss.CE, ys, null);
        int zero = 0;
        int nonFinite = 0;
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = i * d; j < (i + 1) * d; j++) {
                s += Math.abs(ev.gradient()[j]);
            }
            if (!Double.isFinite(s)) {
                nonFinite++;
            } else if (s == 0) {
                zero++;
            }
        }
        if (zero > 0) {
            w.add(zero + " of " + n + " checked points have an all-zero input gradient: gradient-based attacks are "
                    + "unreliable there (gradient masking, a hard threshold, or a saturated softmax).");
        }
        if (nonFinite > 0) {
            w.add(nonFinite + " of " + n + " checked points have a non-finite input gradient.");
        }
        return w;
    }
}
