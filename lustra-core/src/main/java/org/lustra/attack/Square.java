package org.lustra.attack;

import java.util.SplittableRandom;

/**
 * Square Attack (Andriushchenko et al., "Square Attack: a query-efficient black-box adversarial attack via random
 * search", ECCV 2020): score-based random search on the margin z_y − max_{j≠y} z_j. Each query changes one random
 * square window of side √(p·H·W); p follows the paper's schedule (p_init halved at 10, 50, 200, 500, 1000, 2000,
 * 4000, 6000, 8000 of 10 000 queries, rescaled to the budget). ℓ∞: the window is set to ±ε per channel around the
 * clean image; start from vertical stripes of ±ε. ℓ2: the window gets a "meta pseudo-Gaussian" pattern that takes over
 * the energy of itself and a second window (which is zeroed), then the whole perturbation is rescaled to norm ε.
 * A candidate is kept only if it lowers the margin. Samples stop once fooled. Uses logits only (no gradients).
 * Windows are drawn per sample (the reference implementation draws one per batch).
 */
public final class Square {

    /** Settings; validated. The paper's p_init is 0.8 for AutoAttack's ℓ∞ and ℓ2 runs. */
    public record Options(Norm norm, double epsilon, int queries, double pInit, long seed) {
        public Options {
            if (!(epsilon > 0) || queries < 1 || !(pInit > 0 && pInit <= 1) || norm == null) {
                throw new IllegalArgumentException("Invalid Square: epsilon " + epsilon + ", queries " + queries
                        + ", p_init " + pInit + " (need epsilon > 0, queries ≥ 1, 0 < p_init ≤ 1, a norm)");
            }
        }
    }

    private Square() {}

    /** Fraction of pixels per window at query {@code it} of {@code total}. */
    static double pSelection(double pInit, int it, int total) {
        int i = (int) ((long) it * 10000 / total);
        int[] at = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};
        double p = pInit;
        for (int a : at) {
            if (i > a) {
                p /= 2;
            }
        }
        return p;
    }

    public static AttackResult attack(AttackModel model, float[] x, int[] labels, Options opt) {
        int n = labels.length;
        int d = model.imageSize();
        int c = (int) model.imageShape().get(0);
        int h = (int) model.imageShape().get(1);
        int w = (int) model.imageShape().get(2);
        if (x.length != n * d) {
            throw new IllegalArgumentException("Expected " + n + " images of " + d + " values, got " + x.length);
        }
        long before = model.forwardImages();
        SplittableRandom rng = new SplittableRandom(opt.seed());
        float eps = (float) opt.epsilon();
        float[] best = opt.norm() == Norm.LINF ? linfStart(x, n, c, h, w, eps, rng)
                : l2Start(x, n, c, h, w, eps, rng);
        float[] logits = model.logits(best, n);
        int k = logits.length / n;
        float[] margin = new float[n];
        for (int i = 0; i < n; i++) {
            margin[i] = LogitRows.margin(logits, i, k, labels[i]);
        }
        // a randomised target's margin is one noisy forward: every image uses its whole query budget (the search
        // keeps lowering the margin below zero) and K fresh evaluations decide at the end
        boolean randomized = model.randomized();
        for (int q = 1; q < opt.queries(); q++) {
            int[] todo = java.util.stream.IntStream.range(0, n).filter(i -> randomized || margin[i] > 0).toArray();
            if (todo.length == 0) {
                break;
            }
            double p = pSelection(opt.pInit(), q, opt.queries());
            float[] cand = new float[todo.length * d];
            for (int t = 0; t < todo.length; t++) {
                int i = todo[t];
                System.arraycopy(best, i * d, cand, t * d, d);
                if (opt.norm() == Norm.LINF) {
                    linfProposal(cand, t * d, x, i * d, c, h, w, linfSide(p, h, w), eps, rng);
                } else {
                    l2Proposal(cand, t * d, x, i * d, c, h, w, l2Side(p, h, w), eps, rng);
                }
            }
            float[] lc = model.logits(cand, todo.length);
            for (int t = 0; t < todo.length; t++) {
                int i = todo[t];
                float mg = LogitRows.margin(lc, t, k, labels[i]);
                if (mg < margin[i]) {
                    margin[i] = mg;
                    System.arraycopy(cand, t * d, best, i * d, d);
                }
            }
        }
        boolean[] fooled = new boolean[n];
        for (int i = 0; i < n; i++) {
            fooled[i] = margin[i] < 0;
        }
        if (randomized) {
            fooled = model.confirmFooled(best, n, labels);
        }
        return new AttackResult(best, fooled, model.forwardImages() - before);
    }

    /** ℓ∞ start: vertical stripes of ±ε, one sign per column and channel (the reference's initialisation). */
    private static float[] linfStart(float[] x, int n, int c, int h, int w, float eps, SplittableRandom rng) {
        int d = c * h * w;
        float[] best = new float[x.length];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int col = 0; col < w; col++) {
                    float s = rng.nextBoolean() ? eps : -eps;
                    for (int row = 0; row < h; row++) {
                        int j = i * d + (ch * h + row) * w + col;
                        best[j] = clip(x[j] + s);
                    }
                }
            }
        }
        return best;
    }

    /** ℓ2 start: a 5 × 5 grid of signed meta-pseudo-Gaussian squares per channel, scaled to norm ε. */
    private static float[] l2Start(float[] x, int n, int c, int h, int w, float eps, SplittableRandom rng) {
        int d = c * h * w;
        float[] best = new float[x.length];
        for (int i = 0; i < n; i++) {
            float[] delta = new float[d];
            int s = Math.max(h / 5, 1);
            int start = (h - s * 5) / 2;
            for (int vh = start; vh + s <= h; vh += s) {
                for (int vw = start; vw + s <= w; vw += s) {
                    float[] pat = metaPseudoGaussian(s, rng);
                    for (int ch = 0; ch < c; ch++) {
                        float sign = rng.nextBoolean() ? 1f : -1f;
                        for (int a = 0; a < s; a++) {
                            for (int b = 0; b < s; b++) {
                                delta[(ch * h + vh + a) * w + vw + b] += sign * pat[a * s + b];
                            }
                        }
                    }
                }
            }
            setScaled(best, x, delta, i * d, d, eps);
        }
        return best;
    }

    /** Side of the ℓ∞ square changed at selection fraction p. */
    private static int linfSide(double p, int h, int w) {
        return Math.min(Math.max((int) Math.round(Math.sqrt(p * h * w)), 1), h - 1);
    }

    /** Side of the ℓ2 window at selection fraction p: odd, at least 3. */
    private static int l2Side(double p, int h, int w) {
        int s = Math.max((int) Math.round(Math.sqrt(p * h * w)), 3);
        if (s % 2 == 0) {
            s++;
        }
        return Math.min(s, h - 1);
    }

    private static float clip(float v) {
        return Math.max(0f, Math.min(1f, v));
    }

    /** ℓ∞ proposal: one s×s window set to x0 ± ε per channel, redrawn until it changes something. */
    private static void linfProposal(float[] cand, int off, float[] x0, int x0off, int c, int h, int w, int s,
            float eps, SplittableRandom rng) {
        for (int attempt = 0; attempt < 10; attempt++) {
            int vh = rng.nextInt(h - s + 1);
            int vw = rng.nextInt(w - s + 1);
            boolean changed = false;
            for (int ch = 0; ch < c; ch++) {
                float sign = rng.nextBoolean() ? eps : -eps;
                for (int a = 0; a < s; a++) {
                    for (int b = 0; b < s; b++) {
                        int j = (ch * h + vh + a) * w + vw + b;
                        float v = clip(x0[x0off + j] + sign);
                        changed |= Math.abs(v - cand[off + j]) > 1e-7f;
                        cand[off + j] = v;
                    }
                }
            }
            if (changed) {
                return;
            }
        }
    }

    /**
     * Squared ℓ2 of channel ch of {@code delta} inside the first window (at vh, vw) and inside the union of both
     * windows (the second at vh2, vw2), side s.
     */
    private static double[] windowEnergy(float[] delta, int ch, int h, int w, int s, int vh, int vw, int vh2,
            int vw2) {
        double first = 0;
        double union = 0;
        for (int a = 0; a < h; a++) {
            for (int b = 0; b < w; b++) {
                boolean in1 = a >= vh && a < vh + s && b >= vw && b < vw + s;
                boolean in2 = a >= vh2 && a < vh2 + s && b >= vw2 && b < vw2 + s;
                double v = delta[(ch * h + a) * w + b];
                if (in1) {
                    first += v * v;
                }
                if (in1 || in2) {
                    union += v * v;
                }
            }
        }
        return new double[] {first, union};
    }

    /** ℓ2 proposal (Andriushchenko et al., Algorithm 3). */
    private static void l2Proposal(float[] cand, int off, float[] x0, int x0off, int c, int h, int w, int s,
            float eps, SplittableRandom rng) {
        int d = c * h * w;
        float[] delta = new float[d];
        double total = 0;
        for (int j = 0; j < d; j++) {
            delta[j] = cand[off + j] - x0[x0off + j];
            total += (double) delta[j] * delta[j];
        }
        int vh = rng.nextInt(h - s + 1);
        int vw = rng.nextInt(w - s + 1);
        int vh2 = rng.nextInt(h - s + 1);
        int vw2 = rng.nextInt(w - s + 1);
        float[] pat = metaPseudoGaussian(s, rng);
        double unused = Math.max(eps * (double) eps - total, 0) / c;
        float[][] fresh = new float[c][s * s];
        for (int ch = 0; ch < c; ch++) {
            double[] energy = windowEnergy(delta, ch, h, w, s, vh, vw, vh2, vw2);
            double w1 = Math.max(Math.sqrt(energy[0]), 1e-12);
            double both = energy[1];
            float sign = rng.nextBoolean() ? 1f : -1f;
            double norm = 0;
            for (int a = 0; a < s; a++) {
                for (int b = 0; b < s; b++) {
                    double v = sign * pat[a * s + b] + delta[(ch * h + vh + a) * w + vw + b] / w1;
                    fresh[ch][a * s + b] = (float) v;
                    norm += v * v;
                }
            }
            double scale = Math.sqrt(unused + both) / Math.max(Math.sqrt(norm), 1e-12);
            for (int q = 0; q < s * s; q++) {
                fresh[ch][q] *= (float) scale;
            }
        }
        for (int ch = 0; ch < c; ch++) {
            for (int a = 0; a < s; a++) {
                for (int b = 0; b < s; b++) {
                    delta[(ch * h + vh2 + a) * w + vw2 + b] = 0;
                }
            }
            for (int a = 0; a < s; a++) {
                for (int b = 0; b < s; b++) {
                    delta[(ch * h + vh + a) * w + vw + b] = fresh[ch][a * s + b];
                }
            }
        }
        float[] tmp = new float[d];
        setScaled(tmp, x0, delta, 0, d, eps, x0off);
        System.arraycopy(tmp, 0, cand, off, d);
    }

    private static void setScaled(float[] out, float[] x0, float[] delta, int off, int d, float eps) {
        float[] tmp = new float[d];
        setScaled(tmp, x0, delta, 0, d, eps, off);
        System.arraycopy(tmp, 0, out, off, d);
    }

    /** out[o..] = clip(x0 + ε·δ/‖δ‖) with x0 read from {@code x0off}. */
    private static void setScaled(float[] out, float[] x0, float[] delta, int o, int d, float eps, int x0off) {
        double norm = 0;
        for (float v : delta) {
            norm += (double) v * v;
        }
        double scale = norm > 0 ? eps / Math.sqrt(norm) : 0;
        for (int j = 0; j < d; j++) {
            out[o + j] = clip((float) (x0[x0off + j] + delta[j] * scale));
        }
    }

    /** The paper's s×s pattern: two halves of opposite sign, each a sum of centred squares weighted 1/(r+1)². */
    static float[] metaPseudoGaussian(int s, SplittableRandom rng) {
        float[] out = new float[s * s];
        int top = s / 2;
        float[] upper = eta(top, s);
        float[] lower = eta(s - top, s);
        for (int a = 0; a < top; a++) {
            System.arraycopy(upper, a * s, out, a * s, s);
        }
        for (int a = 0; a < s - top; a++) {
            for (int b = 0; b < s; b++) {
                out[(top + a) * s + b] = -lower[a * s + b];
            }
        }
        double norm = 0;
        for (float v : out) {
            norm += (double) v * v;
        }
        float inv = (float) (1 / Math.sqrt(Math.max(norm, 1e-24)));
        for (int q = 0; q < out.length; q++) {
            out[q] *= inv;
        }
        if (rng.nextBoolean()) {
            float[] t = new float[out.length];
            for (int a = 0; a < s; a++) {
                for (int b = 0; b < s; b++) {
                    t[b * s + a] = out[a * s + b];
                }
            }
            return t;
        }
        return out;
    }

    private static float[] eta(int rows, int cols) {
        float[] e = new float[rows * cols];
        if (rows == 0) {
            return e;
        }
        int r0 = rows / 2;
        int c0 = cols / 2;
        for (int r = 0; r < Math.max(rows / 2 + 1, cols / 2 + 1); r++) {
            float v = 1f / ((r + 1) * (r + 1));
            for (int a = Math.max(r0 - r, 0); a < Math.min(r0 + r + 1, rows); a++) {
                for (int b = Math.max(c0 - r, 0); b < Math.min(c0 + r + 1, cols); b++) {
                    e[a * cols + b] += v;
                }
            }
        }
        return e;
    }
}
