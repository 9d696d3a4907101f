package org.lustra.attack;

/**
 * Targeted FAB (Croce and Hein, "Minimally distorted adversarial examples with a fast adaptive boundary attack",
 * ICML 2020), as used by AutoAttack: for each of the top target classes t (by clean logit, best first), linearise
 * the boundary g = z_y − z_t at the iterate x_k, project both x_k and the clean x onto the linearised boundary
 * intersected with the box [0, 1] (exact minimal-ℓp projection: the KKT solution δ = clip(μ·direction, box), the
 * scalar μ found by bisection), and step to the biased combination
 * x_{k+1} = clip((1 − α)(x_k + η δ_k) + α (x + η δ_0)), α = min(‖δ_k‖ / (‖δ_k‖ + ‖δ_0‖), α_max), η = 1.05,
 * α_max = 0.1. When x_{k+1} is misclassified it is kept if it is the smallest perturbation so far, and the iterate
 * moves back towards x: x_{k+1} ← (1 − β) x + β x_{k+1}, β = 0.9. A sample counts as fooled when its smallest
 * perturbation is within ε. Deterministic (the first restart starts at x, as in AutoAttack).
 */
public final class FabT {

    /** Settings; validated. */
    public record Options(Norm norm, double epsilon, int steps, int targetClasses) {
        public Options {
            if (!(epsilon > 0) || steps < 1 || targetClasses < 1 || norm == null) {
                throw new IllegalArgumentException("Invalid FAB-T: epsilon " + epsilon + ", steps " + steps
                        + ", target classes " + targetClasses + " (need epsilon > 0, steps ≥ 1, targets ≥ 1)");
            }
        }
    }

    static final double ETA = 1.05;
    static final double ALPHA_MAX = 0.1;
    static final double BETA = 0.9;

    private FabT() {}

    public static AttackResult attack(AttackModel model, float[] x, int[] labels, Options opt) {
        int n = labels.length;
        int d = model.imageSize();
        long before = model.forwardImages();
        float[] clean = model.logits(x, n);
        int k = clean.length / n;
        float[] out = x.clone();
        boolean[] fooled = new boolean[n];
        double[] bestNorm = new double[n];
        java.util.Arrays.fill(bestNorm, Double.POSITIVE_INFINITY);
        for (int i = 0; i < n; i++) {
            if (LogitRows.misclassified(clean, i, k, labels[i])) {
                fooled[i] = true;
                bestNorm[i] = 0;
            }
        }
        int targets = Math.min(opt.targetClasses(), k - 1);
        for (int rank = 1; rank <= targets; rank++) {
            int[] todo = Apgd.remaining(fooled);
            if (todo.length == 0) {
                break;
            }
            float[] xs = Apgd.gather(x, todo, d);
            int[] ys = Apgd.gather(labels, todo);
            int[] ts = new int[todo.length];
            for (int i = 0; i < todo.length; i++) {
                ts[i] = rankedClass(clean, todo[i], k, rank);
            }
            float[] bestX = xs.clone();
            double[] norms = new double[todo.length];
            java.util.Arrays.fill(norms, Double.POSITIVE_INFINITY);
            runTarget(model, xs, ys, ts, opt, bestX, norms);
            for (int i = 0; i < todo.length; i++) {
                // only a perturbation within the budget (with float slack) counts and is returned; a larger minimal
                // perturbation leaves the sample robust at this ε and its output the clean image
                if (norms[i] < bestNorm[todo[i]] && norms[i] <= opt.epsilon() * (1 + 1e-5)) {
                    bestNorm[todo[i]] = norms[i];
                    System.arraycopy(bestX, i * d, out, todo[i] * d, d);
                    fooled[todo[i]] = true;
                }
            }
        }
        if (model.randomized()) {
            // FAB's minimal-norm search reads single forwards; against a randomised target a success counts only when
            // K fresh evaluations confirm it
            fooled = model.confirmFooled(out, n, labels);
        }
        return new AttackResult(out, fooled, model.forwardImages() - before);
    }

    /** The class with the rank-th largest logit of row i (rank 0 = the top class). */
    static int rankedClass(float[] logits, int i, int k, int rank) {
        Integer[] idx = new Integer[k];
        for (int j = 0; j < k; j++) {
            idx[j] = j;
        }
        java.util.Arrays.sort(idx, (a, b) -> Float.compare(logits[i * k + b], logits[i * k + a]));
        return idx[rank];
    }

    private static void runTarget(AttackModel model, float[] x0, int[] y, int[] t, Options opt, float[] bestX,
            double[] norms) {
        int n = y.length;
        int d = model.imageSize();
        Norm norm = opt.norm();
        float[] cur = x0.clone();
        float[] d1 = new float[d];
        float[] d2 = new float[d];
        float[] base = new float[d];
        for (int it = 0; it < opt.steps(); it++) {
            // TARGET_MARGIN is z_t − z_y; FAB's boundary function is g = z_y − z_t = −loss, gradient −∇.
            AttackModel.Evaluation ev = model.evaluate(cur, n, AttackModel.Loss.TARGET_MARGIN, y, t);
            float[] next = new float[cur.length];
            for (int i = 0; i < n; i++) {
                int off = i * d;
                double g = -ev.loss()[i];
                double wDotOffset = 0;
                float[] w = new float[d];
                for (int j = 0; j < d; j++) {
                    w[j] = -ev.gradient()[off + j];
                    wDotOffset += w[j] * (double) (x0[off + j] - cur[off + j]);
                }
                System.arraycopy(cur, off, base, 0, d);
                project(norm, base, w, -g, d1);
                System.arraycopy(x0, off, base, 0, d);
                project(norm, base, w, -(g + wDotOffset), d2);
                double a1 = norm(norm, d1);
                double a2 = norm(norm, d2);
                double alpha = a1 + a2 > 0 ? Math.min(Math.max(a1 / (a1 + a2), 0), ALPHA_MAX) : 0;
                for (int j = 0; j < d; j++) {
                    double v = (1 - alpha) * (cur[off + j] + ETA * d1[j]) + alpha * (x0[off + j] + ETA * d2[j]);
                    next[off + j] = (float) Math.max(0, Math.min(1, v));
                }
            }
            float[] logits = model.logits(next, n);
            int k = logits.length / n;
            for (int i = 0; i < n; i++) {
                int off = i * d;
                if (LogitRows.misclassified(logits, i, k, y[i])) {
                    double dist = norm.distance(next, x0, off, d);
                    if (dist < norms[i]) {
                        norms[i] = dist;
                        System.arraycopy(next, off, bestX, off, d);
                    }
                    for (int j = off; j < off + d; j++) {
                        next[j] = (float) ((1 - BETA) * x0[j] + BETA * next[j]);
                    }
                }
            }
            cur = next;
        }
    }

    private static double norm(Norm norm, float[] v) {
        double acc = 0;
        for (float e : v) {
            acc = norm == Norm.LINF ? Math.max(acc, Math.abs(e)) : acc + (double) e * e;
        }
        return norm == Norm.LINF ? acc : Math.sqrt(acc);
    }

    /**
     * Minimal-norm δ with w·δ = b and 0 ≤ p + δ ≤ 1, written into {@code delta}: δ_j = clip(μ·dir_j, −p_j, 1 − p_j)
     * with dir = sign(w) for ℓ∞ and w for ℓ2, μ of the sign of b found by bisection (w·δ is monotone in μ). If the box
     * makes w·δ = b unreachable, the farthest feasible δ is returned.
     */
    static void project(Norm norm, float[] p, float[] w, double b, float[] delta) {
        int d = p.length;
        double sign = b >= 0 ? 1 : -1;
        double target = Math.abs(b);
        double hi = 1;
        if (norm == Norm.L2) {
            // grow the bracket until the box saturates or the target is reached
            while (reach(norm, p, w, sign * hi) < target && hi < 1e12) {
                hi *= 4;
            }
        }
        double lo = 0;
        if (reach(norm, p, w, sign * hi) <= target) {
            fill(norm, p, w, sign * hi, delta);
            return;
        }
        for (int it = 0; it < 60; it++) {
            double mid = 0.5 * (lo + hi);
            if (reach(norm, p, w, sign * mid) < target) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        fill(norm, p, w, sign * hi, delta);
        assert delta.length == d;
    }

    /** |w·δ(μ)|. */
    private static double reach(Norm norm, float[] p, float[] w, double mu) {
        double acc = 0;
        for (int j = 0; j < p.length; j++) {
            double dir = norm == Norm.LINF ? Math.signum(w[j]) : w[j];
            double v = Math.max(-p[j], Math.min(1 - p[j], mu * dir));
            acc += w[j] * v;
        }
        return Math.abs(acc);
    }

    private static void fill(Norm norm, float[] p, float[] w, double mu, float[] delta) {
        for (int j = 0; j < p.length; j++) {
            double dir = norm == Norm.LINF ? Math.signum(w[j]) : w[j];
            delta[j] = (float) Math.max(-p[j], Math.min(1 - p[j], mu * dir));
        }
    }
}
