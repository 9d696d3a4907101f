package org.lustra.defense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.attack.AttackModel;
import org.lustra.attack.DetectorView;
import org.lustra.attack.EvadeLaVan;
import org.lustra.attack.LaVan;
import org.lustra.attack.Patch;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.model.Classifier;
import org.lustra.model.ModelStore;

/**
 * Evade-then-fool (issue 16) against the shipped SAC-like and Jedi detectors, as Table 1 runs them (calibrated specs,
 * {@code classifier-resnet}), on four eval512 images with a 12 % patch: plain LaVAN (against the bare classifier) and
 * {@link EvadeLaVan} through the defence's {@link DetectingPurifier} views, same images, places and seed, 30 steps;
 * then the share of each patch that the defence's final mask ({@link DetectingPurifier#detection}) covers.
 */
class DetectorEvasionTest {
    static final Shape IMAGE = new Shape(1, 28, 28);
    static final double FRACTION = 0.12;
    static final int N = 4;
    static final int STEPS = 30;

    /** Mean over images of the fraction of patch pixels the final mask covers. */
    static double covered(DetectingPurifier d, NDManager m, Patch.Result r) {
        float[] hard = d.detection(m.create(r.adversarial(), new Shape(N, 1, 28, 28)), 0).toFloatArray();
        double sum = 0;
        for (int i = 0; i < N; i++) {
            int in = 0;
            int hit = 0;
            for (int p = i * 784; p < (i + 1) * 784; p++) {
                if (r.masks()[p] > 0) {
                    in++;
                    hit += hard[p] > 0.5f ? 1 : 0;
                }
            }
            sum += (double) hit / in;
        }
        return sum / N;
    }

    /** {plain LaVAN's coverage, evade-then-fool's coverage} of {@code spec}'s final mask. */
    static double[] coverages(String spec) {
        ImageSet eval = Subsets.load("eval512");
        try (NDManager m = NDManager.newBaseManager(); Classifier cls = ModelStore.loadClassifier("classifier-resnet");
                DefenseFactory f = new DefenseFactory()) {
            DetectingPurifier d = (DetectingPurifier) f.create(DefenseSpec.parse(spec), cls);
            float[] x = eval.batch(m, 0, N).toFloatArray();
            int[] y = java.util.Arrays.copyOf(eval.labels(), N);
            Patch.Result lavan = LaVan.attack(new AttackModel(cls::logits, m, IMAGE, 1), x, y,
                    new LaVan.Options(FRACTION, STEPS, 0.05, 3));
            DetectorView view = new DetectorView() {
                @Override
                public NDArray classifierLogits(NDArray rows) {
                    return cls.logits(rows);
                }

                @Override
                public NDArray softDetection(NDArray rows) {
                    return d.softDetection(rows, 0);
                }

                @Override
                public NDArray detection(NDArray rows) {
                    return d.detection(rows, 0);
                }
            };
            AttackModel target = new AttackModel(rows -> cls.logits(d.purify(rows, 0)), null, m, IMAGE, 1, false, 1)
                    .withDetector(view);
            Patch.Result evade = EvadeLaVan.attack(target, x, y, null, EvadeLaVan.Options.defaults(FRACTION, STEPS, 3));
            assertEquals(0, target.nonFiniteGradientRows(), "no non-finite gradient through the detector");
            assertArrayEquals(lavan.masks(), evade.masks(), "LaVAN's places, from the same seed");
            for (int p = 0; p < x.length; p++) {
                float v = evade.adversarial()[p];
                assertTrue(Float.isFinite(v) && v >= 0f && v <= 1f, "pixel " + p + " = " + v);
                if (evade.masks()[p] == 0f) {
                    assertEquals(x[p], v, "pixel " + p + " outside the patch");
                }
            }
            return new double[] {covered(d, m, lavan), covered(d, m, evade)};
        }
    }

    /**
     * Finding (1 December, this budget): the shipped segmenter is not evaded — its final mask covered 0.97 of plain
     * LaVAN's patches and 0.99 of evade-then-fool's (it was trained on LaVAN patches). So this test checks only that the
     * attack runs through SAC's views: finite gradients (in {@link #coverages}), LaVAN's places, pixels changed only
     * inside the patch; the Jedi test below is the one where evasion is measured to work (coverage 0.58 → 0.31).
     */
    @Test
    void givenTheShippedSac_whenEvadeThenFoolRuns_thenItRunsThroughTheSegmenterAndChangesOnlyThePatch() {
        double[] c = coverages("sac");
        System.out.println("SAC: final mask covers " + c[0] + " of plain LaVAN's patches, " + c[1] + " of evade's");
        assertTrue(c[0] > 0.5, "the segmenter finds plain LaVAN's patches: " + c[0]);
    }

    @Test
    void givenTheShippedJedi_whenEvadeThenFoolRuns_thenItsFinalMaskCoversLessOfThePatchThanOfPlainLavans() {
        double[] c = coverages("jedi");
        System.out.println("Jedi: final mask covers " + c[0] + " of plain LaVAN's patches, " + c[1] + " of evade's");
        // measured (1 December): 0.58 of plain LaVAN's patches covered, 0.31 of evade-then-fool's
        assertTrue(c[0] > 0.5, "the entropy map finds plain LaVAN's patches: " + c[0]);
        assertTrue(c[1] < 0.7 * c[0], "evade-then-fool hides from it: " + c[1] + " vs " + c[0]);
    }
}
