package org.lustra.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * APGD, Square, FAB-T and AutoAttack against linear 10-class models, where the minimal perturbation that changes the
 * prediction is known in closed form: a point with minimal distance r is foolable at ε iff r ≤ ε.
 */
class LpAttacksTest {
    static final int N = 24;

    /** Budgets placed so that no point sits within 10 % of its boundary (an attack's tolerance is not the test). */
    static boolean[] expected(float[] x, int[] y, Norm norm, double eps, List<Integer> ambiguous) {
        boolean[] e = new boolean[y.length];
        for (int i = 0; i < y.length; i++) {
            double r = LinearTargets.minimalDistance(x, i, y[i], norm);
            e[i] = r <= eps;
            if (Math.abs(r - eps) < 0.1 * eps) {
                ambiguous.add(i);
            }
        }
        return e;
    }

    static void assertMatches(boolean[] expected, boolean[] got, List<Integer> ambiguous, String what) {
        int compared = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!ambiguous.contains(i)) {
                assertEquals(expected[i], got[i], what + ": sample " + i);
                compared++;
            }
        }
        assertTrue(compared >= expected.length / 2, "too few unambiguous samples: " + compared);
        int foolable = 0;
        for (boolean b : expected) {
            foolable += b ? 1 : 0;
        }
        assertTrue(foolable > 0 && foolable < expected.length, "budget must split the samples, got " + foolable);
    }

    static void assertInBall(float[] adv, float[] x, Norm norm, double eps) {
        for (int i = 0; i < adv.length / LinearTargets.D; i++) {
            assertTrue(norm.distance(adv, x, i * LinearTargets.D, LinearTargets.D) <= eps * (1 + 1e-5) + 1e-6,
                    "sample " + i + " left the ball");
        }
        for (float v : adv) {
            assertTrue(v >= 0 && v <= 1);
        }
    }

    /**
     * Untargeted APGD is sound (it fools only foolable points, within the ball) but CE and DLR need not reach the
     * nearest boundary of a multi-class model; targeted DLR aimed at the nearest class is exact on a linear model.
     */
    @Test
    void apgdIsSoundAndTargetedDlrAtTheNearestClassIsExact() {
        float[] x = LinearTargets.images(N, 1);
        int[] y = LinearTargets.predicted(x, N);
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel model = new AttackModel(LinearTargets.linear(m), m, LinearTargets.IMAGE, 1);
            for (Norm norm : Norm.values()) {
                double eps = norm == Norm.LINF ? 0.05 : 0.2;
                List<Integer> amb = new ArrayList<>();
                boolean[] want = expected(x, y, norm, eps, amb);
                for (AttackModel.Loss loss : List.of(AttackModel.Loss.CE, AttackModel.Loss.DLR)) {
                    AttackResult r = Apgd.attack(model, x, y, null, new Apgd.Options(norm, eps, 50, loss, 1, 3));
                    assertInBall(r.adversarial(), x, norm, eps);
                    int found = 0;
                    for (int i = 0; i < N; i++) {
                        assertFalse(r.fooled()[i] && !want[i] && !amb.contains(i), loss + " fooled point " + i);
                        found += r.fooled()[i] ? 1 : 0;
                    }
                    assertTrue(found > 0, loss + " " + norm + " found nothing");
                }
                int[] nearest = new int[N];
                for (int i = 0; i < N; i++) {
                    nearest[i] = LinearTargets.nearestClass(x, i, y[i], norm);
                }
                AttackResult t = Apgd.attack(model, x, y, nearest,
                        new Apgd.Options(norm, eps, 50, AttackModel.Loss.DLR_TARGETED, 1, 3));
                assertMatches(want, t.fooled(), amb, "APGD-T " + norm);
                assertInBall(t.adversarial(), x, norm, eps);
            }
        }
    }

    @Test
    void fabFindsNearMinimalPerturbations() {
        float[] x = LinearTargets.images(N, 2);
        int[] y = LinearTargets.predicted(x, N);
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel model = new AttackModel(LinearTargets.linear(m), m, LinearTargets.IMAGE, 1);
            for (Norm norm : Norm.values()) {
                double eps = norm == Norm.LINF ? 0.05 : 0.2;
                List<Integer> amb = new ArrayList<>();
                boolean[] want = expected(x, y, norm, eps, amb);
                AttackResult r = FabT.attack(model, x, y, new FabT.Options(norm, eps, 30, 9));
                assertMatches(want, r.fooled(), amb, "FAB-T " + norm);
                assertInBall(r.adversarial(), x, norm, eps);
            }
        }
    }

    @Test
    void squareFoolsOnlyWhatIsFoolableAndStaysInTheBall() {
        float[] x = LinearTargets.images(N, 3);
        int[] y = LinearTargets.predicted(x, N);
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel model = new AttackModel(LinearTargets.linear(m), m, LinearTargets.IMAGE, 1);
            for (Norm norm : Norm.values()) {
                double eps = norm == Norm.LINF ? 0.05 : 0.2;
                List<Integer> amb = new ArrayList<>();
                boolean[] want = expected(x, y, norm, eps, amb);
                AttackResult r = Square.attack(model, x, y, new Square.Options(norm, eps, 300, 0.8, 5));
                assertInBall(r.adversarial(), x, norm, eps);
                int found = 0;
                int foolable = 0;
                for (int i = 0; i < N; i++) {
                    assertFalse(r.fooled()[i] && !want[i] && !amb.contains(i), "fooled an unfoolable point " + i);
                    found += r.fooled()[i] ? 1 : 0;
                    foolable += want[i] ? 1 : 0;
                }
                // random search is not exact, but on a linear model it finds most foolable points
                assertTrue(found >= foolable / 2, norm + ": found " + found + " of " + foolable);
                AttackResult again = Square.attack(model, x, y, new Square.Options(norm, eps, 300, 0.8, 5));
                assertArrayEquals(r.adversarial(), again.adversarial(), "same seed, same result");
            }
        }
    }

    @Test
    void squareScheduleHalvesAtThePaperThresholds() {
        assertEquals(0.8, Square.pSelection(0.8, 5, 10000), 1e-12);
        assertEquals(0.4, Square.pSelection(0.8, 11, 10000), 1e-12);
        assertEquals(0.8 / 512, Square.pSelection(0.8, 9000, 10000), 1e-12);
        assertEquals(0.05, Square.pSelection(0.8, 30, 500), 1e-12); // 30/500 of the budget = 600 of 10 000
    }

    @Test
    void fabProjectionIsMinimalAndFeasible() {
        float[] p = {0.5f, 0.9f, 0.1f, 0.5f};
        float[] w = {1f, 2f, -1f, 0.5f};
        float[] delta = new float[4];
        FabT.project(Norm.L2, p, w, -0.6, delta);
        double dot = 0;
        for (int j = 0; j < 4; j++) {
            dot += w[j] * delta[j];
            assertTrue(p[j] + delta[j] >= -1e-6 && p[j] + delta[j] <= 1 + 1e-6);
        }
        assertEquals(-0.6, dot, 1e-5);
        // without the box the ℓ2 answer is −0.6·w/‖w‖² = −0.0941·w; here the box is not active
        assertEquals(-0.6 / 6.25, delta[0], 1e-5);
        FabT.project(Norm.LINF, p, w, 0.9, delta);
        // ℓ∞: δ = c·sign(w); coordinate 1 saturates at +0.1, coordinate 2 at −0.1, so c solves c + 0.2 + 0.1 + 0.5c = 0.9
        assertEquals(0.4, delta[0], 1e-5);
        assertEquals(0.1, delta[1], 1e-5);
        assertEquals(-0.1, delta[2], 1e-5);
    }

    @Test
    void dlrLossesMatchTheirDefinitions() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] z = {3, 1, 2, 0.5f, -1};
            NDArray logits = m.create(z, new Shape(1, 5));
            float dlr = Losses.perSampleLoss(m, logits, AttackModel.Loss.DLR, new int[] {1}, null, 5)
                    .toFloatArray()[0];
            // y = 1: −(1 − 3) / (3 − 1) = 1
            assertEquals(1.0, dlr, 1e-6);
            float t = Losses.perSampleLoss(m, logits, AttackModel.Loss.DLR_TARGETED, new int[] {0},
                    new int[] {2}, 5).toFloatArray()[0];
            // y = 0, t = 2: −(3 − 2) / (3 − (1 + 0.5) / 2) = −1 / 2.25
            assertEquals(-1 / 2.25, t, 1e-6);
            float ce = Losses.perSampleLoss(m, logits, AttackModel.Loss.CE, new int[] {0}, null, 5)
                    .toFloatArray()[0];
            double lse = Math.log(Math.exp(3) + Math.exp(1) + Math.exp(2) + Math.exp(0.5) + Math.exp(-1));
            assertEquals(lse - 3, ce, 1e-5);
        }
    }

    /**
     * The EOT gradient is the gradient of the loss averaged over copies: checked against central finite differences
     * on a target whose copies differ (copy e scales the logits by 1 + 0.5·e), for every loss.
     */
    @Test
    void eotGradientsMatchFiniteDifferencesForEveryLoss() {
        int n = 2;
        float[] x = LinearTargets.images(n, 4);
        int[] y = LinearTargets.predicted(x, n);
        int[] t = {(y[0] + 1) % 10, (y[1] + 3) % 10};
        try (NDManager m = NDManager.newBaseManager()) {
            Function<NDArray, NDArray> lin = LinearTargets.linear(m);
            Function<NDArray, NDArray> perCopy = in -> {
                long rows = in.getShape().get(0);
                float[] s = new float[(int) rows];
                for (int r = 0; r < rows; r++) {
                    s[r] = 1 + 0.5f * (r / n);
                }
                return lin.apply(in).mul(in.getManager().create(s, new Shape(rows, 1)));
            };
            AttackModel eot = new AttackModel(perCopy, m, LinearTargets.IMAGE, 3);
            for (AttackModel.Loss loss : AttackModel.Loss.values()) {
                AttackModel.Evaluation ev = eot.evaluate(x, n, loss, y, t);
                double h = 1e-3;
                for (int j : new int[] {0, 5, 16 + 7, 31}) {
                    float[] plus = x.clone();
                    float[] minus = x.clone();
                    plus[j] += (float) h;
                    minus[j] -= (float) h;
                    int i = j / LinearTargets.D;
                    double fd = (eot.evaluate(plus, n, loss, y, t).loss()[i] - eot.evaluate(minus, n, loss, y, t)
                            .loss()[i]) / (2 * h);
                    assertEquals(fd, ev.gradient()[j], 2e-3 + 2e-2 * Math.abs(fd), loss + " at " + j);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> new AttackModel(lin, m, LinearTargets.IMAGE, 0));
        }
    }

    @Test
    void autoAttackIsTheWorstCaseAndWarnsAboutRandomnessAndMasking() {
        float[] x = LinearTargets.images(N, 6);
        int[] y = LinearTargets.predicted(x, N);
        try (NDManager m = NDManager.newBaseManager()) {
            Function<NDArray, NDArray> lin = LinearTargets.linear(m);
            AutoAttack.Options opt = new AutoAttack.Options(AutoAttack.Version.STANDARD, Norm.LINF, 0.05, 20, 9, 100,
                    1, 7);
            List<String> log = new ArrayList<>();
            AutoAttack.Report aa = AutoAttack.run(lin, m, LinearTargets.IMAGE, x, y, opt, log::add);
            List<Integer> amb = new ArrayList<>();
            boolean[] want = expected(x, y, Norm.LINF, 0.05, amb);
            assertMatches(want, aa.fooled(), amb, "AutoAttack");
            assertTrue(aa.warnings().isEmpty(), aa.warnings().toString());
            assertEquals(List.of("clean", "apgd-ce", "apgd-t", "fab-t", "square"),
                    new ArrayList<>(aa.robustAfter().keySet()));
            double last = 1;
            for (double r : aa.robustAfter().values()) {
                assertTrue(r <= last, "robust accuracy only goes down along the ensemble");
                last = r;
            }
            AttackResult pgd = Apgd.attack(new AttackModel(lin, m, LinearTargets.IMAGE, 1), x, y, null,
                    new Apgd.Options(Norm.LINF, 0.05, 20, AttackModel.Loss.CE, 1, 1));
            assertTrue(aa.robustAccuracy() <= pgd.robustAccuracy());

            // a randomised target and a target with zero gradient are both reported
            java.util.SplittableRandom noise = new java.util.SplittableRandom(1);
            Function<NDArray, NDArray> noisy = in -> lin.apply(in).add((float) (0.01 * noise.nextGaussian()));
            AutoAttack.Report rn = AutoAttack.run(noisy, m, LinearTargets.IMAGE, x, y, opt, s -> { });
            assertTrue(rn.warnings().stream().anyMatch(s -> s.startsWith("Randomness detected")), rn.warnings()
                    .toString());
            Function<NDArray, NDArray> flat = in -> lin.apply(in.stopGradient());
            AutoAttack.Report rz = AutoAttack.run(flat, m, LinearTargets.IMAGE, x, y, opt, s -> { });
            assertTrue(rz.warnings().stream().anyMatch(s -> s.contains("all-zero input gradient")), rz.warnings()
                    .toString());
            // the black-box attack still finds what the masked gradients hide, and says so
            assertTrue(rz.warnings().stream().anyMatch(s -> s.startsWith("Square (black-box) fooled")),
                    rz.warnings().toString());
        }
    }
}
