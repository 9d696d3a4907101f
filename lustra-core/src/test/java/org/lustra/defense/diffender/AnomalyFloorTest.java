package org.lustra.defense.diffender;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lustra.defense.DefenseSpec;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.util.LustraException;

/**
 * The anomaly map's absolute floor (issue 11 item 4): the z-score alone marks the top of every map, patch or not; the
 * floor leaves a map that is low everywhere empty and keeps a patch that stands above it.
 */
class AnomalyFloorTest {

    /** An 8×8 map (m = 1): background 0.02, one outlier of 0.08 at (1, 1), and a 2×2 blob of {@code blob} at (5, 5). */
    private static float[] map(float blob) {
        float[] s = new float[64];
        java.util.Arrays.fill(s, 0.02f);
        s[9] = 0.08f;
        for (int y = 5; y < 7; y++) {
            for (int x = 5; x < 7; x++) {
                s[y * 8 + x] = blob;
            }
        }
        return s;
    }

    private static float[] raw(NDManager m, float[] s, double theta, double floor) {
        return PatchLocalizer.masks(m.create(s, new Shape(1, 1, 8, 8)), theta, floor, 1, false).rawMask()
                .toFloatArray();
    }

    @Test
    void givenACleanLikeMapBelowTheFloor_whenMasked_thenTheZScoreAloneMarksItsOutlierButTheFloorMarksNothing() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] clean = map(0.02f); // S/(2m) ≤ 0.04 everywhere
            assertEquals(1f, raw(m, clean, 2.0, 0)[9], "the paper's rule marks the outlier: its z-score is 7.9");
            assertEquals(0f, sum(raw(m, clean, 2.0, 0.05)), "the floor 0.05 is above every S/(2m) of the map");
        }
    }

    @Test
    void givenAPatchAboveTheFloor_whenMasked_thenExactlyThePatchIsMarked() {
        try (NDManager m = NDManager.newBaseManager()) {
            // the blob's S/(2m) = 0.3, the outlier's 0.04; at θ 0 the outlier's z-score (0.16) passes, so only the
            // floor (its z-score 0.31) can leave it out
            float[] withPatch = map(0.6f);
            assertEquals(1f, raw(m, withPatch, 0.0, 0)[9], "without the floor θ 0 marks the outlier");
            float[] mask = raw(m, withPatch, 0.0, 0.05);
            float[] expected = new float[64];
            for (int i : new int[] {45, 46, 53, 54}) {
                expected[i] = 1f;
            }
            assertArrayEquals(expected, mask);
        }
    }

    @Test
    void givenAPixelAboveTheFloorButBelowTheta_whenMasked_thenItIsNotMarked() {
        try (NDManager m = NDManager.newBaseManager()) {
            // both rules must hold: a high θ leaves the blob's z-score (≈ 3.9) below it, floor or not
            assertEquals(0f, sum(raw(m, map(0.6f), 4.5, 0.01)));
            assertEquals(4f, sum(raw(m, map(0.6f), 3.5, 0.01)));
        }
    }

    @Test
    void givenABindingFloor_whenDifferentiated_thenTheGradientIsFiniteAndAlsoFlowsThroughTheFloorsZScore() {
        try (NDManager m = NDManager.newBaseManager()) {
            // θ 0 and floor 0.05: the floor's z-score (0.31) is the threshold, so it enters the backward
            float[] withFloor = gradient(m, 0.0, 0.05);
            float[] without = gradient(m, 0.0, 0);
            double norm = 0;
            double diff = 0;
            for (int i = 0; i < 64; i++) {
                assertTrue(Float.isFinite(withFloor[i]));
                norm += withFloor[i] * withFloor[i];
                diff += Math.abs(withFloor[i] - without[i]);
            }
            assertTrue(norm > 0, "the straight-through backward passes a gradient to S");
            assertTrue(diff > 1e-3, "the threshold's dependence on S (through its mean and spread) adds to it: " + diff);
        }
    }

    private static float[] gradient(NDManager m, double theta, double floor) {
        NDArray s = m.create(map(0.6f), new Shape(1, 1, 8, 8));
        s.setRequiresGradient(true);
        try (ai.djl.training.GradientCollector g = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
            NDArray raw = PatchLocalizer.masks(s, theta, floor, 1, false).rawMask();
            g.backward(raw.mul(m.arange(64f).reshape(1, 1, 8, 8)).sum());
        }
        return s.getGradient().toFloatArray();
    }

    @Test
    void givenASharpSoftMask_whenRebinarised_thenItEqualsTheHardMaskWithTheFloorNotTheThetaOnlyOne() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            // θ 0 and m = 3: the floor's z-score (2·3·0.09 − mean)/std ≈ 3.4 is the threshold; θ alone would also
            // pass the outlier (z 0.16). Unrefined, so the single-pixel outlier is not blurred away.
            PatchLocalizer loc = new PatchLocalizer(model, PatchLocalizer.Options.defaults().withTheta(0.0)
                    .withFloor(0.09).withRefine(false));
            NDArray s = m.create(map(0.6f), new Shape(1, 1, 8, 8));
            PatchLocalizer.Localization l = PatchLocalizer.masks(s, 0.0, 0.09, 3, false);
            float[] soft = loc.softMask(l, 1e4).gt(0.5f).toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
                    .toFloatArray();
            assertArrayEquals(l.mask().toFloatArray(), soft);
            assertTrue(sum(soft) > 0);
            float[] thetaOnly = loc.softMask(l.zScores(), 1e4).gt(0.5f)
                    .toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
            assertTrue(sum(thetaOnly) > sum(soft), "the floor-aware soft mask is not the θ-only one");
        }
    }

    @Test
    void givenAFloorInTheSpec_whenParsedAndBuilt_thenTheLocaliserAndTheNameCarryIt() {
        PatchLocalizer.Options o = DefenseSpec.parse("diffender:ep:rec:abar0.7:floor0.04").asDiffender()
                .orElseThrow().options().localization();
        assertEquals(0.04, o.floor());
        assertEquals(0.0, PatchLocalizer.Options.defaults().floor(), "off by default: the paper's rule");
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            Diffender.Options d = DiffenderTest.fast(Prompt.empty(), Prompt.empty());
            String name = new Diffender(model, d.withLocalization(d.localization().withFloor(0.04))).name();
            assertTrue(name.contains("floor=0.040"), name);
        }
        LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse("diffender:floor1.5"));
        assertTrue(e.getMessage().contains("floor 1.5") && e.getMessage().contains("floorX"), e.getMessage());
    }

    @Test
    void givenALocaliserWithAFloor_whenRun_thenItsMaskIsTheFlooredRuleOnItsOwnMap() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            NDArray x = DiffenderTest.images(m, 2, 6);
            PatchLocalizer.Options o = PatchLocalizer.Options.defaults().withTheta(0.5);
            PatchLocalizer.Localization a = new PatchLocalizer(model, o).localize(x, Prompt.text("beta"),
                    new NoiseSource(2));
            // a floor at the map's 90th percentile per repetition binds on this map (θ 0.5 marks about a third of
            // the pixels), whatever the tiny model's scale
            float[] values = a.anomaly().toFloatArray();
            java.util.Arrays.sort(values);
            double floor = values[(int) (0.9 * values.length)] / (2.0 * o.repetitions());
            PatchLocalizer.Localization b = new PatchLocalizer(model, o.withFloor(floor)).localize(x,
                    Prompt.text("beta"), new NoiseSource(2));
            float[] expected = PatchLocalizer.masks(a.anomaly(), 0.5, floor, o.repetitions(), true).mask()
                    .toFloatArray();
            assertArrayEquals(expected, b.mask().toFloatArray());
            assertTrue(sum(b.rawMask().toFloatArray()) < sum(a.rawMask().toFloatArray()), "the floor binds here");
        }
    }

    private static float sum(float[] v) {
        float s = 0;
        for (float x : v) {
            s += x;
        }
        return s;
    }
}
