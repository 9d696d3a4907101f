package org.lustra.defense;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lustra.defense.diffender.Diffender;
import org.lustra.defense.diffender.PatchLocalizer;
import org.lustra.util.LustraException;

/** Defence specs parsed once into values; nothing here loads a model. */
class DefenseSpecTest {

    @Test
    void givenNone_whenBuilt_thenItIsTheIdentityNotNull() {
        DefenseSpec spec = DefenseSpec.parse("none");
        assertTrue(spec.none());
        assertSame(Identity.INSTANCE, spec.build(() -> {
            throw new AssertionError("none needs no diffusion model");
        }));
    }

    @Test
    void givenAClassicSpecOutOfRange_whenParsed_thenTheMessageNamesTheSpecAndTheRange() {
        LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse("jpeg:0"));
        assertEquals("Invalid defence 'jpeg:0': Invalid JPEG quality: 0 (1..100)", e.getMessage());
    }

    @Test
    void givenAnUnknownSpec_whenParsed_thenTheMessageListsTheAcceptedForms() {
        LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse("gauss:3"));
        assertTrue(e.getMessage().endsWith(DefenseSpec.FORMS), e.getMessage());
    }

    @Test
    void givenADiffenderSpec_whenParsed_thenEveryOptionIsApplied() {
        DefenseSpec.DiffenderSpec spec = DefenseSpec.parse("diffender:ep:rec:abar0.7:ddim5").asDiffender()
                .orElseThrow();
        Diffender.Options o = spec.options();
        assertEquals(0.7, o.localization().alphaBar());
        assertEquals(PatchLocalizer.Signal.RECONSTRUCTION, o.localization().signal());
        assertTrue(o.localization().independentNoise(), "ep draws independent noise per branch");
        assertEquals(5, o.restoreSteps());
        assertEquals(1.0, o.restoreGuidance(), "ep restores unguided");
        assertFalse(spec.tunedPrompts());
    }

    @Test
    void givenTheDiffusionDefences_whenAsked_thenOnlyTheyNeedTheDiffusionModel() {
        assertTrue(DefenseSpec.parse("diffpure:0.1:ddim10").usesDiffusionModel());
        assertTrue(DefenseSpec.parse("diffender").usesDiffusionModel());
        assertFalse(DefenseSpec.parse("median:3").usesDiffusionModel());
        assertFalse(DefenseSpec.parse("none").usesDiffusionModel());
    }

    @Test
    void givenANonDiffenderSpec_whenAskedForDiffenderOptions_thenThereAreNone() {
        assertTrue(DefenseSpec.parse("lgs").asDiffender().isEmpty());
    }
}
