package org.lustra.attack;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Auto-PGD (Croce and Hein, "Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free
 * attacks", ICML 2020, Algorithm 1): PGD with momentum 0.75 whose step size starts at 2ε and is halved at
 * checkpoints when the loss has increased in fewer than ρ = 0.75 of the steps since the last checkpoint, or when the
 * step size was not reduced at the last checkpoint and the best loss has not improved since; on halving, the iterate
 * restarts from the best point. Checkpoint spacing starts at 0.22·N_iter and shrinks by 0.03·N_iter to at least
 * 0.06·N_iter. Losses: CE, DLR, or targeted DLR for APGD-T. Batched, seeded (random start in the ε-ball).
 */
public final class Apgd {

    /** Settings; validated. */
    public record Options(Norm norm, double epsilon, int steps, AttackModel.Loss loss, int restarts, long seed) {
        public Options {
            if (!(epsilon > 0) || steps < 1 || restarts < 1 || norm == null || loss == null) {
                throw new IllegalArgumentException("Invalid APGD: epsilon " + epsilon + ", steps " + steps
                        + ", restarts " + restarts + " (need epsilon > 0, steps ≥ 1, restarts ≥ 1, a norm and a loss)");
            }
            if (loss == AttackModel.Loss.TARGET_MARGIN) {
                throw new IllegalArgumentException("APGD uses CE, DLR or DLR_TARGETED, not " + loss);
            }
        }
    }

    static final double RHO = 0.75;
    static final double MOMENTUM = 0.75;

    private Apgd() {}

    /**
     * Attacks the n images {@code x} (flat, in [0, 1]). {@code targets} is required for DLR_TARGETED, else ignored.
     */
    public static AttackResult attack(AttackModel model, float[] x, int[] labels, int[] targets, Options opt) {
        int n = labels.length;
        int d = model.imageSize();
        if (x.length != n * d) {
            throw new IllegalArgumentException("Expected " + n + " images of " + d + " values, got " + x.length);
        }
        if (opt.loss() == AttackModel.Loss.DLR_TARGETED && (targets == null || targets.length != n)) {
            throw new IllegalArgumentException("Targeted APGD needs one target class per image");
        }
        long before = model.forwardImages();
        float[] out = x.clone();
        boolean[] fooled = new boolean[n];
        SplittableRandom root = new SplittableRandom(opt.seed());
        if (model.randomized()) {
            // every restart attacks every point; per point the restart with the best EOT objective wins, and its
            // success is confirmed by K fresh evaluations
            Run first = run(model, x, labels, targets, opt, root.split());
            BestIterates best = new BestIterates(first.best, first.loss);
            for (int r = 1; r < opt.restarts(); r++) {
                Run run = run(model, x, labels, targets, opt, root.split());
                best.offerAll(run.loss, run.best);
            }
            return new AttackResult(best.iterates(), model.confirmFooled(best.iterates(), n, labels),
                    model.forwardImages() - before);
        }
        for (int r = 0; r < opt.restarts(); r++) {
            int[] todo = remaining(fooled);
            if (todo.length == 0) {
                break;
            }
            float[] xs = gather(x, todo, d);
            int[] ys = gather(labels, todo);
            int[] ts = targets == null ? null : gather(targets, todo);
            Run run = run(model, xs, ys, ts, opt, root.split());
            for (int i = 0; i < todo.length; i++) {
                if (run.fooled[i] || r == opt.restarts() - 1) {
                    System.arraycopy(run.best, i * d, out, todo[i] * d, d);
                }
                fooled[todo[i]] = run.fooled[i];
            }
        }
        return new AttackResult(out, fooled, model.forwardImages() - before);
    }

    private record Run(float[] best, boolean[] fooled, float[] loss) {}

    private static Run run(AttackModel model, float[] x0, int[] y, int[] t, Options opt, SplittableRandom rng) {
        int n = y.length;
        int d = model.imageSize();
        Norm norm = opt.norm();
        double eps = opt.epsilon();
        float[] cur = x0.clone();
        for (int i = 0; i < n; i++) {
            norm.randomStart(cur, x0, i * d, d, eps, rng);
        }
        float[] prev = cur.clone();
        AttackModel.Evaluation ev = model.evaluate(cur, n, opt.loss(), y, t);
        int k = ev.classes();
        float[] grad = ev.gradient();
        BestIterates best = new BestIterates(cur, ev.loss());
        float[] gradBest = grad.clone();
        float[] advOut = x0.clone(); // first fooling point per sample, else the best-loss point
        boolean[] fooled = new boolean[n];
        markFooled(ev.logits(), k, y, cur, advOut, fooled, d);
        StepSchedule schedule = new StepSchedule(eps, opt.steps(), best.losses(), ev.loss());

        for (int it = 0; it < opt.steps(); it++) {
            if (allTrue(fooled) && !model.randomized()) {
                break;
            }
            float[] next = momentumStep(norm, x0, cur, prev, grad, schedule.stepSize, eps,
                    it == 0 ? 1.0 : MOMENTUM, d);
            prev = cur;
            cur = next;
            ev = model.evaluate(cur, n, opt.loss(), y, t);
            grad = ev.gradient();
            markFooled(ev.logits(), k, y, cur, advOut, fooled, d);
            float[] loss = ev.loss();
            for (int i = 0; i < n; i++) {
                schedule.record(i, loss[i]);
                if (best.offer(i, loss[i], cur, i)) {
                    System.arraycopy(grad, i * d, gradBest, i * d, d);
                }
            }
            schedule.afterStep(best, gradBest, cur, grad, d);
        }
        if (model.randomized()) {
            // a first "success" under one draw is not kept: the best EOT objective is
            return new Run(best.iterates(), fooled, best.losses());
        }
        for (int i = 0; i < n; i++) {
            if (!fooled[i]) {
                System.arraycopy(best.iterates(), i * d, advOut, i * d, d);
            }
        }
        return new Run(advOut, fooled, best.losses());
    }

    /**
     * One step of Algorithm 1: z = P(cur + η·∇), then next = P(cur + a·(z − cur) + (1 − a)·(cur − prev)), per image
     * with its own step size η.
     */
    private static float[] momentumStep(Norm norm, float[] x0, float[] cur, float[] prev, float[] grad,
            double[] stepSize, double eps, double a, int d) {
        float[] next = cur.clone();
        float[] z = cur.clone();
        for (int i = 0; i < stepSize.length; i++) {
            int off = i * d;
            norm.ascend(z, grad, off, d, stepSize[i]);
            norm.project(z, x0, off, d, eps);
            for (int j = off; j < off + d; j++) {
                next[j] = (float) (cur[j] + a * (z[j] - cur[j]) + (1 - a) * (cur[j] - prev[j]));
            }
            norm.project(next, x0, off, d, eps);
        }
        return next;
    }

    /**
     * The step-size schedule per image: counts loss increases between checkpoints and, at each, halves the step
     * (restarting from the best point) when the loss rose in at most ρ of the steps or the best loss stalled after a
     * checkpoint that did not halve.
     */
    private static final class StepSchedule {
        final double[] stepSize;
        private final float[] lossAtLastCheck;
        private final boolean[] reducedAtLastCheck;
        private final int[] increases;
        private final float[] lastLoss;
        private final int minEvery;
        private final int shrink;
        private int checkEvery;
        private int sinceCheck;

        StepSchedule(double eps, int iters, float[] bestLoss, float[] loss) {
            int n = loss.length;
            stepSize = new double[n];
            Arrays.fill(stepSize, 2 * eps);
            lossAtLastCheck = bestLoss.clone();
            reducedAtLastCheck = new boolean[n];
            increases = new int[n];
            lastLoss = loss.clone();
            checkEvery = Math.max((int) (0.22 * iters), 1);
            minEvery = Math.max((int) (0.06 * iters), 1);
            shrink = Math.max((int) (0.03 * iters), 1);
        }

        void record(int i, float loss) {
            if (loss > lastLoss[i]) {
                increases[i]++;
            }
            lastLoss[i] = loss;
        }

        /** Counts a step; at a checkpoint halves where due and moves those images back to their best point. */
        void afterStep(BestIterates best, float[] gradBest, float[] cur, float[] grad, int d) {
            if (++sinceCheck < checkEvery) {
                return;
            }
            for (int i = 0; i < stepSize.length; i++) {
                boolean oscillating = increases[i] <= checkEvery * RHO;
                boolean stalled = !reducedAtLastCheck[i] && lossAtLastCheck[i] >= best.loss(i);
                boolean reduce = oscillating || stalled;
                reducedAtLastCheck[i] = reduce;
                lossAtLastCheck[i] = best.loss(i);
                increases[i] = 0;
                if (reduce) {
                    stepSize[i] /= 2;
                    System.arraycopy(best.iterates(), i * d, cur, i * d, d);
                    System.arraycopy(gradBest, i * d, grad, i * d, d);
                }
            }
            checkEvery = Math.max(checkEvery - shrink, minEvery);
            sinceCheck = 0;
        }
    }

    /** Records, for samples misclassified at {@code cur} for the first time, the fooling input. */
    static void markFooled(float[] logits, int k, int[] y, float[] cur, float[] out, boolean[] fooled, int d) {
        for (int i = 0; i < y.length; i++) {
            if (!fooled[i] && LogitRows.misclassified(logits, i, k, y[i])) {
                fooled[i] = true;
                System.arraycopy(cur, i * d, out, i * d, d);
            }
        }
    }

    static boolean allTrue(boolean[] b) {
        for (boolean v : b) {
            if (!v) {
                return false;
            }
        }
        return true;
    }

    static int[] remaining(boolean[] fooled) {
        return java.util.stream.IntStream.range(0, fooled.length).filter(i -> !fooled[i]).toArray();
    }

    static float[] gather(float[] x, int[] idx, int d) {
        float[] out = new float[idx.length * d];
        for (int i = 0; i < idx.length; i++) {
            System.arraycopy(x, idx[i] * d, out, i * d, d);
        }
        return out;
    }

    static int[] gather(int[] a, int[] idx) {
        int[] out = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = a[idx[i]];
        }
        return out;
    }
}
