package org.lustra.defense.diffender;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.lustra.defense.DefenseSpec;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;

/** The localiser's x̂0 differencing (SPEC §4.1: unclipped) and re-thresholding, on the tiny random diffusion model. */
class PatchLocalizerTest {

    @Test
    void givenTheDefaults_whenRead_thenTheOneStepPredictionsAreDifferencedUnclipped() {
        assertFalse(PatchLocalizer.Options.defaults().clipX0());
        assertTrue(DefenseSpec.parse("diffender:clip").asDiffender().orElseThrow().options().localization().clipX0());
    }

    @Test
    void givenUnclippedDifferencing_whenTheGuidanceScaleChanges_thenTheZScoresDoNot() {
        // |x̂0_L − x̂0_∅| = g·√(1−ᾱ)/√ᾱ·|ε_c − ε_u|: g only scales S, and the z-score removes the scale
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            NDArray x = DiffenderTest.images(m, 3, 4);
            PatchLocalizer.Options o = PatchLocalizer.Options.defaults();
            float[] z3 = new PatchLocalizer(model, o.withGuidance(3)).localize(x, Prompt.text("alpha"),
                    new NoiseSource(5)).zScores().toFloatArray();
            float[] z75 = new PatchLocalizer(model, o.withGuidance(7.5)).localize(x, Prompt.text("alpha"),
                    new NoiseSource(5)).zScores().toFloatArray();
            assertArrayEquals(z3, z75, 2e-3f);
        }
    }

    @Test
    void givenAnAnomalyMap_whenThresholdedAgainAtTheSameTheta_thenTheMasksAreTheLocalisersOwn() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            NDArray x = DiffenderTest.images(m, 2, 6);
            PatchLocalizer loc = new PatchLocalizer(model, PatchLocalizer.Options.defaults().withTheta(1.0));
            PatchLocalizer.Localization a = loc.localize(x, Prompt.text("beta"), new NoiseSource(2));
            PatchLocalizer.Localization b = PatchLocalizer.masks(a.anomaly(), 1.0, true);
            assertArrayEquals(a.rawMask().toFloatArray(), b.rawMask().toFloatArray());
            assertArrayEquals(a.mask().toFloatArray(), b.mask().toFloatArray());
            assertTrue(b.rawMask().sum().getFloat() > 0, "θ = 1 marks some pixels");
        }
    }

    @Test
    void givenTheClipOption_whenNamed_thenTheNameSaysSo() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            Diffender.Options o = DiffenderTest.fast(Prompt.empty(), Prompt.empty());
            assertTrue(new Diffender(model, o).name().contains("x0 clipped"));
            assertFalse(new Diffender(model, o.withLocalization(o.localization().withClipX0(false))).name()
                    .contains("clipped"));
        }
    }
}
