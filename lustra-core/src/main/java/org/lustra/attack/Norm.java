package org.lustra.attack;

import java.util.SplittableRandom;

/**
 * The threat-model norms of the ℓp attacks, with the projection onto the ε-ball around x0 intersected with the image
 * box [0, 1]. Operates on one sample, the range [off, off + len) of flat float arrays.
 */
public enum Norm {
    LINF, L2;

    /** Parses {@code linf}/{@code l-inf}/{@code l2}; anything else is an error naming the choices. */
    public static Norm parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "linf", "l-inf", "inf" -> LINF;
            case "l2" -> L2;
            default -> throw new IllegalArgumentException("Unknown norm '" + s + "'; use linf or l2");
        };
    }

    public String label() {
        return this == LINF ? "l-inf" : "l2";
    }

    /** ‖a − b‖ over the sample. */
    public double distance(float[] a, float[] b, int off, int len) {
        double acc = 0;
        for (int j = off; j < off + len; j++) {
            double d = a[j] - b[j];
            acc = this == LINF ? Math.max(acc, Math.abs(d)) : acc + d * d;
        }
        return this == LINF ? acc : Math.sqrt(acc);
    }

    /** Projects {@code cur} onto {‖cur − x0‖ ≤ ε} ∩ [0, 1] (for ℓ2: radial scaling, then clipping, as PGD does). */
    public void project(float[] cur, float[] x0, int off, int len, double epsilon) {
        // a non-finite coordinate goes back to the clean value: Math.max/min pass NaN through
        for (int j = off; j < off + len; j++) {
            if (!Float.isFinite(cur[j])) {
                cur[j] = x0[j];
            }
        }
        if (this == LINF) {
            float e = (float) epsilon;
            for (int j = off; j < off + len; j++) {
                cur[j] = Math.max(0f, Math.min(1f, Math.max(x0[j] - e, Math.min(x0[j] + e, cur[j]))));
            }
            return;
        }
        double norm = distance(cur, x0, off, len);
        double scale = norm > epsilon ? epsilon / norm : 1.0;
        for (int j = off; j < off + len; j++) {
            cur[j] = (float) Math.max(0, Math.min(1, x0[j] + (cur[j] - x0[j]) * scale));
        }
    }

    /** Moves {@code cur} by {@code size} along the steepest-ascent direction of {@code g} for this norm. */
    public void ascend(float[] cur, float[] g, int off, int len, double size) {
        if (this == LINF) {
            for (int j = off; j < off + len; j++) {
                cur[j] += Float.isFinite(g[j]) ? (float) (size * Math.signum(g[j])) : 0f;
            }
            return;
        }
        double norm = 0;
        for (int j = off; j < off + len; j++) {
            norm += (double) g[j] * g[j];
        }
        norm = Math.sqrt(norm);
        if (norm > 0 && Double.isFinite(norm)) {
            for (int j = off; j < off + len; j++) {
                cur[j] += (float) (size * g[j] / norm);
            }
        }
    }

    /** A uniform random point of the ε-ball around x0 (ℓ∞: per pixel; ℓ2: uniform in the ball), then projected. */
    public void randomStart(float[] cur, float[] x0, int off, int len, double epsilon, SplittableRandom rng) {
        if (this == LINF) {
            for (int j = off; j < off + len; j++) {
                cur[j] = (float) (x0[j] + (2 * rng.nextDouble() - 1) * epsilon);
            }
        } else {
            double norm = 0;
            double[] d = new double[len];
            for (int j = 0; j < len; j++) {
                d[j] = rng.nextGaussian();
                norm += d[j] * d[j];
            }
            double r = epsilon * Math.pow(rng.nextDouble(), 1.0 / len) / Math.sqrt(norm);
            for (int j = 0; j < len; j++) {
                cur[off + j] = (float) (x0[off + j] + d[j] * r);
            }
        }
        project(cur, x0, off, len, epsilon);
    }
}
