package org.lustra.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Against a linear two-class model, logits = (w·x, −w·x), the optimal attacks are known in closed form: the ℓ∞ one
 * moves every pixel by ε against sign(w) and lowers the margin 2 w·x by 2 ε ‖w‖₁; the ℓ2 one moves along −w/‖w‖₂
 * and lowers it by 2 ε ‖w‖₂.
 */
class PgdTest {
    static final int D = 16;

    static float[] w() {
        float[] w = new float[D];
        for (int j = 0; j < D; j++) {
            w[j] = (j % 3 == 0 ? -1f : 1f) * (0.5f + j / 16f);
        }
        return w;
    }

    static Function<NDArray, NDArray> linear(NDManager m) {
        float[] w = w();
        float[] mat = new float[D * 2];
        for (int j = 0; j < D; j++) {
            mat[j * 2] = w[j];
            mat[j * 2 + 1] = -w[j];
        }
        NDArray weight = m.create(mat, new Shape(D, 2));
        return x -> x.reshape(x.getShape().get(0), D).matMul(weight);
    }

    @Test
    void fgsmTakesTheClosedFormLinfStep() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] x0 = new float[D];
            java.util.Arrays.fill(x0, 0.5f);
            float[] w = w();
            double dot = 0;
            for (int j = 0; j < D; j++) {
                dot += w[j] * 0.5;
            }
            int label = dot > 0 ? 0 : 1;
            Pgd.Result r = Pgd.attack(linear(m), m.create(x0, new Shape(1, 1, 4, 4)), new int[] {label},
                    Pgd.Options.fgsm(0.1));
            float[] expected = new float[D];
            for (int j = 0; j < D; j++) {
                expected[j] = 0.5f - (label == 0 ? 1 : -1) * 0.1f * Math.signum(w[j]);
            }
            assertArrayEquals(expected, r.adversarial().toFloatArray(), 1e-6f);
        }
    }

    @Test
    void linfPgdFoolsExactlyTheSamplesWhoseMarginIsBelowTwoEpsilonL1() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] w = w();
            double l1 = 0;
            for (float v : w) {
                l1 += Math.abs(v);
            }
            int n = 12;
            float[] xs = new float[n * D];
            int[] labels = new int[n];
            double[] margin = new double[n];
            for (int i = 0; i < n; i++) {
                // x = 0.5 + s·sign(w), s = −0.12 + 0.01 i: margin 2 w·x = 3.875 + 31 s runs from 0.155 to 3.565,
                // across the threshold 2 ε ‖w‖₁ = 1.55; x stays inside [0, 1] after ±ε
                double dot = 0;
                for (int j = 0; j < D; j++) {
                    xs[i * D + j] = 0.5f + (-0.12f + 0.01f * i) * Math.signum(w[j]);
                    dot += w[j] * xs[i * D + j];
                }
                margin[i] = 2 * dot;
                labels[i] = 0;
            }
            double eps = 0.05;
            Pgd.Result r = Pgd.attack(linear(m), m.create(xs, new Shape(n, 1, 4, 4)), labels,
                    new Pgd.Options(Norm.LINF, eps, 20, 0, true, 3));
            int fooled = 0;
            for (int i = 0; i < n; i++) {
                boolean shouldFool = margin[i] < 2 * eps * l1 - 1e-4;
                assertEquals(shouldFool, r.fooledAt()[i] > 0, "sample " + i + " margin " + margin[i]);
                fooled += shouldFool ? 1 : 0;
            }
            assertTrue(fooled > 0 && fooled < n, "the case splits the batch: " + fooled);
            float[] adv = r.adversarial().toFloatArray();
            for (int j = 0; j < adv.length; j++) {
                assertTrue(Math.abs(adv[j] - xs[j]) <= eps + 1e-6 && adv[j] >= 0 && adv[j] <= 1);
            }
        }
    }

    @Test
    void l2StepsStayInTheBallAndRobustAccuracyFallsWithEpsilon() {
        try (NDManager m = NDManager.newBaseManager()) {
            int n = 8;
            float[] xs = new float[n * D];
            SplittableRandomFill.fill(xs, 7);
            NDArray x = m.create(xs, new Shape(n, 1, 4, 4));
            Function<NDArray, NDArray> model = linear(m);
            long[] pred = model.apply(x).argMax(1).toLongArray();
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = (int) pred[i];
            }
            double previous = 1.0;
            for (double eps : new double[] {0.05, 0.2, 0.5, 1.5}) {
                Pgd.Result r = Pgd.attack(model, x, labels, new Pgd.Options(Norm.L2, eps, 10, 0, false, 1));
                float[] adv = r.adversarial().toFloatArray();
                for (int i = 0; i < n; i++) {
                    double d = 0;
                    for (int j = 0; j < D; j++) {
                        d += Math.pow(adv[i * D + j] - xs[i * D + j], 2);
                    }
                    assertTrue(Math.sqrt(d) <= eps + 1e-5, "ℓ2 distance " + Math.sqrt(d) + " > " + eps);
                }
                assertTrue(r.robustAccuracy() <= previous, "robust accuracy rose with epsilon");
                previous = r.robustAccuracy();
            }
            assertTrue(previous < 1.0, "the largest budget fools someone");
        }
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Pgd.Options(Norm.LINF, 0, 10, 0, false, 1));
        assertThrows(IllegalArgumentException.class, () -> new Pgd.Options(Norm.L2, 0.5, 0, 0, false, 1));
        assertEquals(0.25, new Pgd.Options(Norm.LINF, 0.1, 1, 0, false, 1).stepSize(), 1e-12);
    }

    /** Deterministic pixels in [0.2, 0.8]. */
    static final class SplittableRandomFill {
        static void fill(float[] a, long seed) {
            java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (0.2 + 0.6 * r.nextDouble());
            }
        }
    }
}
