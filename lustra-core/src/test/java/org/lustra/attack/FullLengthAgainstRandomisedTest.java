package org.lustra.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * "Against a randomised defence no attack stops at a first success: it runs all iterations … deterministic defences may
 * keep the early exit" (issue 9, Build 4), for APGD, LaVAN, Square and RHDE-like (PGD and GDPA-like are covered in
 * HarnessV2Test and RandomizedTargetsTest). The target fools every image from the first query on: a deterministic run
 * stops there, as each attack's Javadoc says; a randomised one makes every query of its budget, then K votes.
 */
class FullLengthAgainstRandomisedTest {
    private static final int N = 3;
    private static final int EOT = 2;
    private static final int VOTES = 3;
    private static final int[] LABELS = new int[N]; // class 0; the target answers class 1

    /**
     * The linear target scaled down (so it still has a gradient) plus 5 on class 1 for every row: every image is
     * misclassified on every query. {@code noise} > 0 adds fresh Gaussian noise per call (a randomised defence; too
     * small to change the answer). {@code rows} counts the images the target has seen.
     */
    private static Function<NDArray, NDArray> fooledFromTheStart(NDManager m, double noise, AtomicLong rows) {
        Function<NDArray, NDArray> lin = LinearTargets.linear(m);
        SplittableRandom r = new SplittableRandom(5);
        return x -> {
            int n = (int) x.getShape().get(0);
            rows.addAndGet(n);
            float[] shift = new float[n * LinearTargets.K];
            for (int i = 0; i < n; i++) {
                shift[i * LinearTargets.K + 1] = 5f;
                for (int k = 0; k < LinearTargets.K; k++) {
                    shift[i * LinearTargets.K + k] += (float) (noise * r.nextGaussian());
                }
            }
            return lin.apply(x).mul(0.01f).add(x.getManager().create(shift, new Shape(n, LinearTargets.K)));
        };
    }

    /** The deterministic target (EOT 1, one vote) and its randomised twin (EOT 2, K = 3), counting rows apart. */
    private record Targets(AttackModel deterministic, AtomicLong deterministicRows, AttackModel randomised,
            AtomicLong randomisedRows) {
        static Targets of(NDManager m) {
            AtomicLong det = new AtomicLong();
            AtomicLong rnd = new AtomicLong();
            return new Targets(new AttackModel(fooledFromTheStart(m, 0, det), null, m, LinearTargets.IMAGE, 1, false,
                    1), det, new AttackModel(fooledFromTheStart(m, 0.1, rnd), null, m, LinearTargets.IMAGE, EOT, true,
                    VOTES), rnd);
        }
    }

    private static final boolean[] ALL_FOOLED = {true, true, true};

    @Test
    void givenATargetFooledFromTheStart_whenApgdRuns_thenRandomisedRunsEveryStepOfEveryRestartAndDeterministicStops() {
        float[] x = LinearTargets.images(N, 3);
        int steps = 5;
        int restarts = 2;
        Apgd.Options opt = new Apgd.Options(Norm.LINF, 0.03, steps, AttackModel.Loss.CE, restarts, 7);
        try (NDManager m = NDManager.newBaseManager()) {
            Targets t = Targets.of(m);

            // when
            AttackResult det = Apgd.attack(t.deterministic(), x, LABELS, null, opt);
            AttackResult rnd = Apgd.attack(t.randomised(), x, LABELS, null, opt);

            // then deterministic: the starting point's evaluation fools all, the loop and the second restart never
            // run; randomised: (steps + 1) evaluations × EOT per restart, then K votes
            assertEquals(N, t.deterministicRows().get());
            assertEquals((long) restarts * (steps + 1) * N * EOT + (long) VOTES * N, t.randomisedRows().get());
            assertEquals(t.randomisedRows().get(), rnd.forwardImages());
            assertArrayEquals(ALL_FOOLED, det.fooled());
            assertArrayEquals(ALL_FOOLED, rnd.fooled());
        }
    }

    @Test
    void givenATargetFooledFromTheStart_whenLaVanRuns_thenRandomisedRunsEveryStepAndDeterministicStops() {
        float[] x = LinearTargets.images(N, 3);
        int steps = 6;
        LaVan.Options opt = new LaVan.Options(0.25, steps, 0.05, 7); // a 2×2 patch on the 4×4 images
        try (NDManager m = NDManager.newBaseManager()) {
            Targets t = Targets.of(m);

            // when
            Patch.Result det = LaVan.attack(t.deterministic(), x, LABELS, opt);
            Patch.Result rnd = LaVan.attack(t.randomised(), x, LABELS, opt);

            // then deterministic: the first pasted patch fools all and the next iteration has nothing to do;
            // randomised: steps + 1 evaluations × EOT for every image, then K votes
            assertEquals(N, t.deterministicRows().get());
            assertEquals((long) (steps + 1) * N * EOT + (long) VOTES * N, t.randomisedRows().get());
            assertEquals(t.randomisedRows().get(), rnd.forwardImages());
            assertArrayEquals(ALL_FOOLED, det.fooled());
            assertArrayEquals(ALL_FOOLED, rnd.fooled());
        }
    }

    @Test
    void givenATargetFooledFromTheStart_whenSquareRuns_thenRandomisedUsesEveryQueryAndDeterministicStops() {
        float[] x = LinearTargets.images(N, 3);
        int queries = 20;
        Square.Options opt = new Square.Options(Norm.LINF, 0.05, queries, 0.8, 7);
        try (NDManager m = NDManager.newBaseManager()) {
            Targets t = Targets.of(m);

            // when
            AttackResult det = Square.attack(t.deterministic(), x, LABELS, opt);
            AttackResult rnd = Square.attack(t.randomised(), x, LABELS, opt);

            // then deterministic: the initial stripes' margin is already negative, no query follows; randomised:
            // the initial query and the other queries − 1, one image each (Square reads single forwards), then K votes
            assertEquals(N, t.deterministicRows().get());
            assertEquals((long) queries * N + (long) VOTES * N, t.randomisedRows().get());
            assertEquals(t.randomisedRows().get(), rnd.forwardImages());
            assertArrayEquals(ALL_FOOLED, det.fooled());
            assertArrayEquals(ALL_FOOLED, rnd.fooled());
        }
    }

    @Test
    void givenATargetFooledFromTheStart_whenRhdeRuns_thenRandomisedRunsEveryGenerationAndDeterministicStops() {
        float[] x = LinearTargets.images(N, 3);
        float[] sources = LinearTargets.images(4, 99);
        int[] sourceLabels = {1, 2, 3, 4};
        int population = 4;
        int generations = 5;
        RhdeLike.Options opt = new RhdeLike.Options(0.25, population, generations, 0.7, false, 7);
        try (NDManager m = NDManager.newBaseManager()) {
            Targets t = Targets.of(m);

            // when
            Patch.Result det = RhdeLike.attack(t.deterministic(), x, LABELS, sources, sourceLabels, opt);
            Patch.Result rnd = RhdeLike.attack(t.randomised(), x, LABELS, sources, sourceLabels, opt);

            // then deterministic: the initial population fools every image, no generation runs; randomised: the
            // initial population and every generation for every image, then K votes of the best member
            assertEquals((long) N * population, t.deterministicRows().get());
            assertEquals((long) (generations + 1) * N * population + (long) VOTES * N, t.randomisedRows().get());
            assertEquals(t.randomisedRows().get(), rnd.forwardImages());
            assertArrayEquals(ALL_FOOLED, det.fooled());
            assertArrayEquals(ALL_FOOLED, rnd.fooled());
        }
    }
}
