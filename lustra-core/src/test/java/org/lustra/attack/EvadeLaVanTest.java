package org.lustra.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The evade-then-fool patch attack on {@link PatchAttacksTest}'s quadrant images and model, behind a synthetic
 * detect-then-replace defence whose detector is known in closed form: it flags bright pixels (hard: x &gt; 0.5; soft:
 * σ(8·(x − 0.5))) and the defence sets flagged pixels to 0. Plain LaVAN drives the patch pixels that help to 1.
 */
class EvadeLaVanTest {
    static final int N = 8;

    /** The synthetic detector; {@code soft} may be replaced (e.g. by one with a NaN gradient). */
    static DetectorView brightPixels(Function<NDArray, NDArray> classifier, Function<NDArray, NDArray> soft) {
        return new DetectorView() {
            public NDArray classifierLogits(NDArray rows) {
                return classifier.apply(rows);
            }

            public NDArray softDetection(NDArray rows) {
                return soft.apply(rows);
            }

            public NDArray detection(NDArray rows) {
                return rows.gt(0.5f).toType(rows.getDataType(), false);
            }
        };
    }

    static NDArray sigmoidBright(NDArray x) {
        return ai.djl.nn.Activation.sigmoid(x.sub(0.5f).mul(x.getManager().full(new ai.djl.ndarray.types.Shape(), 8f)));
    }

    /** The defended model: flagged pixels set to 0, then the quadrant classifier; a randomised-target protocol. */
    static AttackModel defended(NDManager m, DetectorView view, Function<NDArray, NDArray> classifier) {
        Function<NDArray, NDArray> pipeline = x -> classifier.apply(x.mul(x.lte(0.5f).toType(x.getDataType(),
                false)));
        return new AttackModel(pipeline, null, m, PatchAttacksTest.IMAGE, 2, true, 3).withDetector(view);
    }

    static EvadeLaVan.Options options(int steps) {
        return new EvadeLaVan.Options(PatchAttacksTest.FRACTION, steps, 0.05, List.of(EvadeLaVan.Start.RANDOM,
                EvadeLaVan.Start.NATURAL, EvadeLaVan.Start.NON_ADAPTIVE), 1.0, 2.0, 10, 0.25, 2.0, 3);
    }

    /** Mean soft detection inside each image's patch. */
    static double softInside(Patch.Result r) {
        double sum = 0;
        int count = 0;
        for (int j = 0; j < r.masks().length; j++) {
            if (r.masks()[j] > 0) {
                sum += 1 / (1 + Math.exp(-8 * (r.adversarial()[j] - 0.5)));
                count++;
            }
        }
        return sum / count;
    }

    /** Fraction of patch pixels the hard detector flags. */
    static double flaggedInside(Patch.Result r) {
        int flagged = 0;
        int count = 0;
        for (int j = 0; j < r.masks().length; j++) {
            if (r.masks()[j] > 0) {
                flagged += r.adversarial()[j] > 0.5f ? 1 : 0;
                count++;
            }
        }
        return (double) flagged / count;
    }

    @Test
    void givenABrightPixelDetector_whenEvadeThenFoolRuns_thenItsPatchIsDetectedLessThanPlainLavans() {
        // true quadrant 16 × 0.2 = 3.2: nine unflagged pixels (≤ 0.5) in another quadrant can outvote it
        float[] x = PatchAttacksTest.quadrantImages(N, 0.2f);
        int[] y = PatchAttacksTest.labels(N);
        try (NDManager m = NDManager.newBaseManager()) {
            Function<NDArray, NDArray> cls = PatchAttacksTest.quadrants(m);
            Patch.Result lavan = LaVan.attack(new AttackModel(cls, m, PatchAttacksTest.IMAGE, 1), x, y,
                    new LaVan.Options(PatchAttacksTest.FRACTION, 60, 0.05, 3));
            AttackModel model = defended(m, brightPixels(cls, EvadeLaVanTest::sigmoidBright), cls);
            Patch.Result evade = EvadeLaVan.attack(model, x, y, null, options(60));
            assertArrayEquals(lavan.masks(), evade.masks(), "LaVAN's places, from the same seed");
            double plain = softInside(lavan);
            double evaded = softInside(evade);
            assertTrue(plain > 0.5, "plain LaVAN's patch (bright pixels where it helps) is flagged: " + plain);
            // a hidden pixel just under the threshold still scores σ(≈ 0) ≈ 0.5 softly: the soft mean drops less
            // than the hard flags do
            assertTrue(evaded < 0.8 * plain, "evade-then-fool lowers the soft detection: " + evaded + " vs " + plain);
            double flaggedPlain = flaggedInside(lavan);
            double flaggedEvade = flaggedInside(evade);
            assertTrue(flaggedEvade < 0.5 * flaggedPlain, "and hides from the hard detector: " + flaggedEvade
                    + " vs " + flaggedPlain);
            assertTrue(model.gradientRows() > 0 && model.nonFiniteGradientRows() == 0);
        }
    }

    @Test
    void givenAnyStart_whenEvadeThenFoolRuns_thenEveryImageIsFiniteAndChangesOnlyInsideItsPatch() {
        float[] x = PatchAttacksTest.quadrantImages(N, 0.3f);
        int[] y = PatchAttacksTest.labels(N);
        float[] sources = PatchAttacksTest.quadrantImages(5, 0.9f);
        try (NDManager m = NDManager.newBaseManager()) {
            Function<NDArray, NDArray> cls = PatchAttacksTest.quadrants(m);
            AttackModel model = defended(m, brightPixels(cls, EvadeLaVanTest::sigmoidBright), cls);
            Patch.Result r = EvadeLaVan.attack(model, x, y, sources, options(20));
            PatchAttacksTest.assertOnlyMaskChanged(r, x, N, 3);
            for (float v : r.adversarial()) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void givenADetectorWhoseGradientIsNaN_whenEvadeThenFoolRuns_thenNoStepFollowsItAndTheImagesStayFinite() {
        float[] x = PatchAttacksTest.quadrantImages(N, 0.3f);
        int[] y = PatchAttacksTest.labels(N);
        try (NDManager m = NDManager.newBaseManager()) {
            Function<NDArray, NDArray> cls = PatchAttacksTest.quadrants(m);
            // forward: the soft detection; backward: d/dx sqrt(x − x) = 0/0
            AttackModel model = defended(m, brightPixels(cls, z -> sigmoidBright(z).add(z.sub(z).sqrt())), cls);
            Patch.Result r = EvadeLaVan.attack(model, x, y, null, options(10));
            assertTrue(model.nonFiniteGradientRows() > 0, "the NaN rows are counted");
            PatchAttacksTest.assertOnlyMaskChanged(r, x, N, 3);
            for (float v : r.adversarial()) {
                assertTrue(Float.isFinite(v), "NaN is never a result");
            }
        }
    }

    @Test
    void givenNoDetector_whenEvadeThenFoolRuns_thenItIsAnAdamMarginLavanThatFoolsTheClassifier() {
        int n = 16;
        float[] x = PatchAttacksTest.quadrantImages(n, 0.3f);
        int[] y = PatchAttacksTest.labels(n);
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel model = new AttackModel(PatchAttacksTest.quadrants(m), m, PatchAttacksTest.IMAGE, 1);
            Patch.Result r = EvadeLaVan.attack(model, x, y, null, options(40));
            PatchAttacksTest.assertOnlyMaskChanged(r, x, n, 3);
            assertTrue(r.robustAccuracy() <= 0.5, "robust " + r.robustAccuracy());
            assertArrayEquals(r.adversarial(), EvadeLaVan.attack(model, x, y, null, options(40)).adversarial(),
                    "seeded");
        }
    }
}
