package org.lustra.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** How attacks treat a randomised target: one rule for "fooled", no stop at a lucky draw, no clean hand-back. */
class RandomizedTargetsTest {

    /** A target that answers, on its v-th call, class {@code script[v]} for every image (logit 5, others 0). */
    private static Function<NDArray, NDArray> scripted(int[] script, AtomicInteger calls) {
        return x -> {
            int n = (int) x.getShape().get(0);
            float[] z = new float[n * LinearTargets.K];
            int cls = script[calls.getAndIncrement() % script.length];
            for (int i = 0; i < n; i++) {
                z[i * LinearTargets.K + cls] = 5f;
            }
            return x.getManager().create(z, new Shape(n, LinearTargets.K));
        };
    }

    @Test
    void givenEveryPatternOfFourAndFiveVotes_whenAnAttackConfirmsASuccess_thenItAgreesWithTheMajorityScore() {
        int label = 0;
        try (NDManager m = NDManager.newBaseManager()) {
            for (int k : new int[] {4, 5}) {
                int patterns = (int) Math.pow(3, k);
                for (int p = 0; p < patterns; p++) {
                    int[] script = new int[k];
                    for (int v = 0, q = p; v < k; v++, q /= 3) {
                        script[v] = q % 3; // classes 0 (the label), 1 and 2
                    }
                    AttackModel model = new AttackModel(scripted(script, new AtomicInteger()), null, m,
                            LinearTargets.IMAGE, 1, true, k);
                    boolean fooled = model.confirmFooled(new float[LinearTargets.D], 1, new int[] {label})[0];
                    assertEquals(Votes.majority(script, label) != label, fooled, java.util.Arrays.toString(script));
                }
            }
            // the two rules used to disagree here: two right, two of one wrong class (a tie) is fooled ...
            assertTrue(Votes.majority(new int[] {0, 0, 1, 1}, 0) != 0);
            // ... and two right against three scattered wrong classes is robust (0 is the most frequent answer)
            assertEquals(0, Votes.majority(new int[] {0, 0, 1, 2, 3}, 0));
        }
    }

    @Test
    void givenARandomisedTargetWhoseLogitsAreNaNOnTwoOfThreeDraws_whenConfirmed_thenItIsFooledAsTheScoreCountsIt() {
        try (NDManager m = NDManager.newBaseManager()) {
            AtomicInteger calls = new AtomicInteger();
            Function<NDArray, NDArray> target = x -> {
                int n = (int) x.getShape().get(0);
                float[] z = new float[n * LinearTargets.K];
                if (calls.getAndIncrement() % 3 != 2) {
                    java.util.Arrays.fill(z, Float.NaN);
                }
                return x.getManager().create(z, new Shape(n, LinearTargets.K)); // the third draw: class 0 (the label)
            };
            AttackModel model = new AttackModel(target, null, m, LinearTargets.IMAGE, 1, true, 3);
            boolean fooled = model.confirmFooled(new float[LinearTargets.D], 1, new int[] {0})[0];
            // the harness judges a NaN row as no class (-1): two of three wrong answers is a majority against the label
            assertTrue(fooled);
            assertEquals(-1, Votes.majority(new int[] {-1, -1, 0}, 0));
        }
    }

    /** The linear target plus fresh Gaussian logit noise per call: randomised, with a usable gradient. */
    private static Function<NDArray, NDArray> noisyLinear(NDManager m, double sigma, long seed) {
        Function<NDArray, NDArray> lin = LinearTargets.linear(m);
        SplittableRandom r = new SplittableRandom(seed);
        return x -> {
            NDArray z = lin.apply(x);
            float[] noise = new float[Math.toIntExact(z.size())];
            for (int i = 0; i < noise.length; i++) {
                noise[i] = (float) (sigma * r.nextGaussian());
            }
            return z.add(x.getManager().create(noise, z.getShape()).duplicate());
        };
    }

    @Test
    void givenARandomisedTarget_whenGdpaAttacks_thenEveryImageRunsAllSteps() {
        int n = 6;
        float[] x = LinearTargets.images(n, 3);
        int[] y = LinearTargets.predicted(x, n);
        int steps = 5;
        try (NDManager m = NDManager.newBaseManager()) {
            // moves never happen within the run (moveEvery > steps), so the forwards are the gradient steps alone
            GdpaLike.Options opt = new GdpaLike.Options(0.25, steps, 0.5, steps + 1, 1, 7);
            AttackModel det = new AttackModel(LinearTargets.linear(m), null, m, LinearTargets.IMAGE, 1, false, 1);
            long detForwards = GdpaLike.attack(det, x, y, opt).forwardImages();
            AttackModel rnd = new AttackModel(noisyLinear(m, 0.01, 5), null, m, LinearTargets.IMAGE, 2, true, 3);
            long rndForwards = GdpaLike.attack(rnd, x, y, opt).forwardImages();
            // (steps + 1) evaluations × 2 EOT copies for every image, then 3 confirmation votes
            assertEquals((long) n * ((steps + 1) * 2 + 3), rndForwards);
            assertTrue(detForwards <= (long) n * (steps + 1), "the deterministic run may stop early: " + detForwards);
        }
    }

    @Test
    void givenARandomisedTargetItCannotFool_whenAutoAttackRandRuns_thenItHandsOnItsIterateNotTheCleanImage() {
        int n = 4;
        float[] x = LinearTargets.images(n, 11);
        int[] y = LinearTargets.predicted(x, n);
        double eps = 0.002; // moves a logit difference by at most 2·eps·16 = 0.064
        for (int i = 0; i < n; i++) {
            assertTrue(margin(x, i, y[i]) > 0.1, "precondition: image " + i + " has a margin the budget cannot beat");
        }
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel rnd = new AttackModel(noisyLinear(m, 1e-4, 9), null, m, LinearTargets.IMAGE, 2, true, 3);
            AutoAttack.Report r = AutoAttack.run(rnd, x, y, new AutoAttack.Options(AutoAttack.Version.RAND,
                    Norm.LINF, eps, 5, 9, 100, 2, 13), s -> { });
            for (int i = 0; i < n; i++) {
                assertFalse(r.fooled()[i], "margins are too large for eps " + eps);
            }
            assertFalse(java.util.Arrays.equals(x, r.adversarial()), "the unconfirmed iterates are handed on");
            for (int i = 0; i < n; i++) {
                assertTrue(Norm.LINF.distance(r.adversarial(), x, i * LinearTargets.D, LinearTargets.D)
                        <= eps * (1 + 1e-4) + 1e-6, "inside the ball");
            }
        }
    }

    @Test
    void givenADeterministicTarget_whenAutoAttackCannotFoolIt_thenItReturnsTheCleanImages() {
        int n = 4;
        float[] x = LinearTargets.images(n, 11);
        int[] y = LinearTargets.predicted(x, n);
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel det = new AttackModel(LinearTargets.linear(m), null, m, LinearTargets.IMAGE, 1, false, 1);
            AutoAttack.Report r = AutoAttack.run(det, x, y, new AutoAttack.Options(AutoAttack.Version.RAND,
                    Norm.LINF, 0.002, 5, 9, 100, 1, 13), s -> { });
            assertArrayEquals(x, r.adversarial());
        }
    }

    /** The linear model's logit margin of image i: its label's logit minus the best other one. */
    private static double margin(float[] x, int i, int label) {
        float[] w = LinearTargets.weights();
        double[] z = new double[LinearTargets.K];
        for (int k = 0; k < LinearTargets.K; k++) {
            for (int j = 0; j < LinearTargets.D; j++) {
                z[k] += x[i * LinearTargets.D + j] * w[j * LinearTargets.K + k];
            }
        }
        double other = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < LinearTargets.K; k++) {
            if (k != label) {
                other = Math.max(other, z[k]);
            }
        }
        return z[label] - other;
    }
}
