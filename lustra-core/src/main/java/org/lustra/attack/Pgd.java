package org.lustra.attack;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Projected gradient descent (Madry et al., 2018) on the cross-entropy loss, ℓ∞ (sign step) or ℓ2 (normalised
 * step), optionally from a uniform random start in the ε-ball; FGSM is PGD with one step of size ε and no random
 * start. Batched; every sample keeps the first input that fooled the model and the iteration it happened (samples
 * already fooled stop moving). Inputs and outputs are in [0, 1].
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
        NDManager parent = x.getManager();
        int n = labels.length;
        int[] fooledAt = new int[n];
        Arrays.fill(fooledAt, -1);
        long per = x.getShape().size() / n;
        float[] x0 = x.toFloatArray();
        float[] best = x0.clone();
        float[] cur = x0.clone();
        if (opt.randomStart()) {
            SplittableRandom rng = new SplittableRandom(opt.seed());
            for (int i = 0; i < n; i++) {
                randomStart(cur, x0, (int) (i * per), (int) per, opt, rng);
            }
        }
        int k;
        try (NDManager m = parent.newSubManager()) {
            NDArray clean = model.apply(m.create(x0, x.getShape()));
            k = (int) clean.getShape().get(1);
            boolean[] wrong = wrong(clean, labels);
            for (int i = 0; i < n; i++) {
                if (wrong[i]) {
                    fooledAt[i] = 0;
                }
            }
        }
        float[] onehot = new float[n * k];
        for (int i = 0; i < n; i++) {
            onehot[i * k + labels[i]] = 1f;
        }
        for (int it = 1; it <= opt.steps(); it++) {
            if (Arrays.stream(fooledAt).allMatch(f -> f >= 0)) {
                break;
            }
            float[] grad;
            try (NDManager m = parent.newSubManager()) {
                NDArray xa = m.create(cur, x.getShape());
                xa.setRequiresGradient(true);
                NDArray logits;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    logits = model.apply(xa);
                    NDArray loss = logits.logSoftmax(1).mul(m.create(onehot, new Shape(n, k))).sum().neg();
                    gc.backward(loss);
                }
                NDArray g = xa.getGradient();
                g.attach(m);
                grad = g.toFloatArray();
            }
            for (int i = 0; i < n; i++) {
                if (fooledAt[i] < 0) {
                    step(cur, x0, grad, (int) (i * per), (int) per, opt);
                }
            }
            try (NDManager m = parent.newSubManager()) {
                boolean[] wrong = wrong(model.apply(m.create(cur, x.getShape())), labels);
                for (int i = 0; i < n; i++) {
                    if (fooledAt[i] < 0 && wrong[i]) {
                        fooledAt[i] = it;
                        System.arraycopy(cur, (int) (i * per), best, (int) (i * per), (int) per);
                    }
                }
            }
        }
        for (int i = 0; i < n; i++) {
            if (fooledAt[i] < 0) {
                System.arraycopy(cur, (int) (i * per), best, (int) (i * per), (int) per);
            }
        }
        return new Result(parent.create(best, x.getShape()), fooledAt);
    }

    private static boolean[] wrong(NDArray logits, int[] labels) {
        long[] pred = logits.argMax(1).toLongArray();
        boolean[] w = new boolean[labels.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = pred[i] != labels[i];
        }
        return w;
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
