package org.lustra.attack;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Projected gradient descent (Madry et al., 2018) on the cross-entropy loss, ℓ∞ (sign step) or ℓ2 (normalised
 * step), optionally from a uniform random start in the ε-ball; FGSM is PGD with one step of size ε and no random
 * start. Batched. Against a deterministic target every sample keeps the first input that fooled the model and the
 * iteration it happened (samples already fooled stop moving); against a randomised one it runs to full length and
 * keeps the best EOT objective. Inputs and outputs are in [0, 1].
 */
public final class Pgd {

    /** Settings; validated. {@code stepSize} defaults to 2.5 ε / steps when ≤ 0. */
    public record Options(Norm norm, double epsilon, int steps, double stepSize, boolean randomStart, long seed) {
        public Options {
            if (!(epsilon > 0) || steps < 1) {
                throw new IllegalArgumentException("Invalid PGD: epsilon " + epsilon + ", steps " + steps
                        + " (need epsilon > 0, steps ≥ 1)");
            }
            if (stepSize <= 0) {
                stepSize = 2.5 * epsilon / steps;
            }
        }

        public static Options fgsm(double epsilon) {
            return new Options(Norm.LINF, epsilon, 1, epsilon, false, 0);
        }
    }

    /**
     * @param adversarial final inputs (the first successful one per sample, else the last iterate), in {@code x}'s
     *     manager
     * @param fooledAt iteration (1-based) at which each sample was first misclassified; 0 = clean input already
     *     wrong; -1 = never
     */
    public record Result(NDArray adversarial, int[] fooledAt) {
        public double robustAccuracy() {
            return Arrays.stream(fooledAt).filter(i -> i < 0).count() / (double) fooledAt.length;
        }
    }

    private Pgd() {}

    /** Attacks {@code model} (a differentiable map from (N, C, H, W) in [0, 1] to logits (N, K)). */
    public static Result attack(Function<NDArray, NDArray> model, NDArray x, int[] labels, Options opt) {
        long n = x.getShape().get(0);
        AttackModel am = new AttackModel(model, x.getManager(), x.getShape().slice(1), 1);
        int[] fooledAt = new int[(int) n];
        float[] adv = attack(am, x.toFloatArray(), labels, opt, fooledAt).adversarial();
        return new Result(x.getManager().create(adv, x.getShape()), fooledAt);
    }

    /**
     * Attacks {@code model} (with its EOT copies and gradient route); {@code fooledAt}, if not null, receives the
     * iteration each sample was first fooled (0 = clean input already wrong, −1 = never). Against a deterministic
     * target a sample stops at its first success. Against a randomised target every sample runs all iterations and
     * the returned input is the iterate with the highest EOT-mean loss, judged by K fresh evaluations (a first
     * success under one draw of the defence's randomness proves nothing).
     */
    public static AttackResult attack(AttackModel model, float[] x0, int[] labels, Options opt, int[] fooledAt) {
        int n = labels.length;
        int per = model.imageSize();
        int[] at = fooledAt != null ? fooledAt : new int[n];
        Arrays.fill(at, -1);
        long before = model.forwardImages();
        float[] cur = x0.clone();
        if (opt.randomStart()) {
            SplittableRandom rng = new SplittableRandom(opt.seed());
            for (int i = 0; i < n; i++) {
                randomStart(cur, x0, i * per, per, opt, rng);
            }
        }
        if (model.randomized()) {
            return fullLength(model, x0, cur, labels, opt, at, before);
        }
        float[] best = x0.clone();
        float[] clean = model.logits(x0, n);
        int k = clean.length / n;
        for (int i = 0; i < n; i++) {
            if (LogitRows.misclassified(clean, i, k, labels[i])) {
                at[i] = 0;
            }
        }
        for (int it = 1; it <= opt.steps(); it++) {
            if (Arrays.stream(at).allMatch(f -> f >= 0)) {
                break;
            }
            float[] grad = model.evaluate(cur, n, AttackModel.Loss.CE, labels, null).gradient();
            for (int i = 0; i < n; i++) {
                if (at[i] < 0) {
                    step(cur, x0, grad, i * per, per, opt);
                }
            }
            float[] logits = model.logits(cur, n);
            for (int i = 0; i < n; i++) {
                if (at[i] < 0 && LogitRows.misclassified(logits, i, k, labels[i])) {
                    at[i] = it;
                    System.arraycopy(cur, i * per, best, i * per, per);
                }
            }
        }
        boolean[] fooled = new boolean[n];
        for (int i = 0; i < n; i++) {
            fooled[i] = at[i] >= 0;
            if (at[i] < 0) {
                System.arraycopy(cur, i * per, best, i * per, per);
            }
        }
        return new AttackResult(best, fooled, model.forwardImages() - before);
    }

    /** The randomised-target route: all iterations for every sample, keep the best EOT objective, confirm by K votes. */
    private static AttackResult fullLength(AttackModel model, float[] x0, float[] cur, int[] labels, Options opt,
            int[] at, long before) {
        int n = labels.length;
        int per = model.imageSize();
        BestIterates best = new BestIterates(cur, n);
        for (int it = 0; it <= opt.steps(); it++) {
            AttackModel.Evaluation ev = model.evaluate(cur, n, AttackModel.Loss.CE, labels, null);
            best.offerAll(ev.loss(), cur);
            if (it < opt.steps()) {
                for (int i = 0; i < n; i++) {
                    step(cur, x0, ev.gradient(), i * per, per, opt);
                }
            }
        }
        boolean[] fooled = model.confirmFooled(best.iterates(), n, labels);
        for (int i = 0; i < n; i++) {
            at[i] = fooled[i] ? opt.steps() : -1;
        }
        return new AttackResult(best.iterates(), fooled, model.forwardImages() - before);
    }

    /** One ascent step on sample [off, off+len), then projection onto the ε-ball around x0 and onto [0, 1]. */
    static void step(float[] cur, float[] x0, float[] g, int off, int len, Options opt) {
        opt.norm().ascend(cur, g, off, len, opt.stepSize());
        opt.norm().project(cur, x0, off, len, opt.epsilon());
    }

    static void randomStart(float[] cur, float[] x0, int off, int len, Options opt, SplittableRandom rng) {
        opt.norm().randomStart(cur, x0, off, len, opt.epsilon(), rng);
    }
}
