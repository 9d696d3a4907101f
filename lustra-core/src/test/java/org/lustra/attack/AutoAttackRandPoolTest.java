package org.lustra.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * "AutoAttack-rand: a point leaves the pool only when a K-vote confirms it" (issue 9, Build 4). Harness v1 dropped
 * points that APGD-CE "fooled" under one EOT mean, so APGD-DLR never tried them, and its final re-check kept points no
 * vote confirmed.
 */
class AutoAttackRandPoolTest {
    private static final int EOT = 4;
    private static final int VOTES = 3;
    private static final float A = 0.3f;
    private static final float B = 0.7f;

    /**
     * Two kinds of image (all pixels 0.3 or 0.7, label 0). Every EOT batch (its rows a multiple of {@link #EOT}; plain
     * calls here have 1 or 2 rows) answers class 1, so APGD's EOT mean says "fooled" at once. Plain forwards — the
     * K-vote — answer class 0 for image A always, and for image B class 1 once it has been moved off its clean value,
     * in the first {@code wrongCallsForB} plain calls that see it moved (class 0 after). A small linear term keeps the
     * gradients non-zero. {@code eotBatches} records the size of every EOT batch.
     */
    private static Function<NDArray, NDArray> target(NDManager m, List<Integer> eotBatches, int wrongCallsForB) {
        Function<NDArray, NDArray> lin = LinearTargets.linear(m);
        AtomicInteger movedBCalls = new AtomicInteger();
        return x -> {
            int rows = (int) x.getShape().get(0);
            boolean eot = rows % EOT == 0;
            if (eot) {
                eotBatches.add(rows);
            }
            float[] v = x.toFloatArray();
            int d = LinearTargets.D;
            boolean[] movedB = new boolean[rows];
            boolean anyMovedB = false;
            for (int r = 0; r < rows; r++) {
                double mean = 0;
                for (int j = r * d; j < (r + 1) * d; j++) {
                    mean += v[j] / d;
                }
                boolean b = mean >= 0.5;
                for (int j = r * d; j < (r + 1) * d; j++) {
                    movedB[r] |= b && Math.abs(v[j] - B) > 1e-4f;
                }
                anyMovedB |= movedB[r];
            }
            boolean bWrong = !eot && anyMovedB && movedBCalls.getAndIncrement() < wrongCallsForB;
            float[] shift = new float[rows * LinearTargets.K];
            for (int r = 0; r < rows; r++) {
                boolean wrong = eot || (movedB[r] && bWrong);
                shift[r * LinearTargets.K + (wrong ? 1 : 0)] = 5f;
            }
            return lin.apply(x).mul(0.01f).add(x.getManager().create(shift, new Shape(rows, LinearTargets.K)));
        };
    }

    /** Image 0 of kind A, image 1 of kind B. */
    private static float[] images() {
        float[] x = new float[2 * LinearTargets.D];
        Arrays.fill(x, 0, LinearTargets.D, A);
        Arrays.fill(x, LinearTargets.D, 2 * LinearTargets.D, B);
        return x;
    }

    @Test
    void givenAPointFooledOnlyUnderTheEotMean_whenAutoAttackRandRuns_thenItStaysInThePoolAndApgdDlrAttacksIt() {
        // given image 0 of kind A (fooled under every EOT mean, never by a vote) and image 1 of kind B (confirmed)
        float[] x = images();
        int[] labels = {0, 0};
        int steps = 5;
        List<Integer> eotBatches = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel model = new AttackModel(target(m, eotBatches, Integer.MAX_VALUE), null, m, LinearTargets.IMAGE,
                    1, true, VOTES);

            // when
            AutoAttack.Report r = AutoAttack.run(model, x, labels, new AutoAttack.Options(AutoAttack.Version.RAND,
                    Norm.LINF, 0.01, steps, 9, 100, EOT, 13), s -> { });

            // then APGD-CE attacked both (steps + 1 EOT batches of 2 × 4 rows); only B's success was confirmed, so
            // APGD-DLR attacked A alone (steps + 1 batches of 1 × 4 rows)
            Map<Integer, Integer> batches = new TreeMap<>();
            eotBatches.forEach(b -> batches.merge(b, 1, Integer::sum));
            assertEquals(Map.of(2 * EOT, steps + 1, EOT, steps + 1), batches);
            assertArrayEquals(new boolean[] {false, true}, r.fooled());
            assertNull(r.fooledBy()[0]);
            assertEquals("apgd-ce", r.fooledBy()[1]);
            assertEquals(0.5, r.robustAfter().get("apgd-ce"), 0);
            assertEquals(0.5, r.robustAfter().get("apgd-dlr"), 0);
            // A is handed on as APGD's iterate inside the ball, not as the clean image
            double moved = Norm.LINF.distance(r.adversarial(), x, 0, LinearTargets.D);
            assertTrue(moved > 0 && moved <= 0.01 * (1 + 1e-4) + 1e-6, "A moved by " + moved);
            assertFalse(Arrays.equals(Arrays.copyOf(x, LinearTargets.D), Arrays.copyOf(r.adversarial(),
                    LinearTargets.D)));
        }
    }

    @Test
    void givenASuccessConfirmedDuringTheAttackButNotByTheFinalVote_whenAutoAttackRandEnds_thenItIsNotCounted() {
        // given image B wrong in the K = 3 plain forwards of APGD-CE's confirmation, right in every later one
        float[] x = images();
        int[] labels = {0, 0};
        List<String> log = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel model = new AttackModel(target(m, new ArrayList<>(), VOTES), null, m, LinearTargets.IMAGE, 1,
                    true, VOTES);

            // when
            AutoAttack.Report r = AutoAttack.run(model, x, labels, new AutoAttack.Options(AutoAttack.Version.RAND,
                    Norm.LINF, 0.01, 5, 9, 100, EOT, 13), log::add);

            // then APGD-CE took B out of the pool, but the final K-vote (three fresh forwards, all right) rejects it:
            // nothing is counted fooled, and B's iterate is still handed on (in the ball) for the caller's scoring
            assertEquals(0.5, r.robustAfter().get("apgd-ce"), 0, "precondition: APGD-CE's vote confirmed B");
            assertArrayEquals(new boolean[] {false, false}, r.fooled());
            assertNull(r.fooledBy()[1]);
            assertTrue(r.warnings().stream().anyMatch(w -> w.startsWith("Re-check rejected 1 adversarial example(s) "
                    + "(0 outside the eps-ball, 1 classified correctly")), r.warnings().toString());
            double moved = Norm.LINF.distance(r.adversarial(), x, LinearTargets.D, LinearTargets.D);
            assertTrue(moved > 0 && moved <= 0.01 * (1 + 1e-4) + 1e-6, "B moved by " + moved);
        }
    }
}
