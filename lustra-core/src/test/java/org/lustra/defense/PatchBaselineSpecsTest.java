package org.lustra.defense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.lustra.defense.dw.DigitalWatermarking;
import org.lustra.defense.fnc.FeatureNormClipping;
import org.lustra.util.LustraException;

/** The harness specs of Digital Watermarking ({@code dw…}) and feature norm clipping ({@code fnc…}). */
class PatchBaselineSpecsTest {

    @Test
    void givenDwAndFncSpecs_whenParsedAndTheirTextParsedAgain_thenTheSameValueComesBack() {
        for (String s : List.of("dw", "dw:theta2.5:smooth0:open2:dilate3:telea5", "dw:ddim10", "fnc", "fnc:rel1.5",
                "fnc:abs4,8,inf")) {
            DefenseSpec spec = DefenseSpec.parse(s);
            assertEquals(s, spec.text());
            assertEquals(spec, DefenseSpec.parse(spec.text()), s);
        }
    }

    @Test
    void givenDwOptions_whenParsed_thenEachLandsInItsField() {
        DefenseSpec.DwSpec d = (DefenseSpec.DwSpec) DefenseSpec.parse("dw:theta2.5:smooth0:open2:dilate3:telea5");
        assertEquals(new DigitalWatermarking.Options(2.5, 0, 2, 3), d.config().options());
        assertEquals(5, d.config().radius());
        assertEquals(0, d.config().diffusionSteps());
        assertTrue(d.usesClassifier());
        assertFalse(d.usesDiffusionModel(), "Telea needs no diffusion model");
        DefenseSpec.DwSpec plain = (DefenseSpec.DwSpec) DefenseSpec.parse("dw");
        assertEquals(DigitalWatermarking.Options.defaults(), plain.config().options());
        assertEquals(3, plain.config().radius());
        assertTrue(DefenseSpec.parse("dw:ddim10").usesDiffusionModel());
    }

    @Test
    void givenDwWithoutAClassifier_whenBuilt_thenTheErrorSaysItNeedsTheProtectedClassifier() {
        LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse("dw").build(() -> {
            throw new AssertionError("Telea DW must not load the diffusion model");
        }));
        assertTrue(e.getMessage().contains("classifier"), e.getMessage());
    }

    @Test
    void givenFncSpecs_whenParsed_thenThePlaceholderAndPerStageThresholdsAreRead() {
        DefenseSpec.FncSpec placeholder = (DefenseSpec.FncSpec) DefenseSpec.parse("fnc");
        assertEquals(FeatureNormClipping.Options.placeholder(), placeholder.options());
        DefenseSpec.FncSpec abs = (DefenseSpec.FncSpec) DefenseSpec.parse("fnc:abs4,8,inf");
        assertEquals(FeatureNormClipping.Mode.ABSOLUTE, abs.options().mode());
        assertArrayEquals(new double[] {4, 8, Double.POSITIVE_INFINITY}, abs.options().thresholds());
        assertEquals("abs4,8,inf", abs.options().text());
        Purifier p = abs.build(() -> {
            throw new AssertionError("FNC needs no diffusion model");
        });
        FeatureNormClipping fnc = assertInstanceOf(FeatureNormClipping.class, p);
        assertInstanceOf(FeatureDefense.class, fnc);
        assertEquals(Set.of(GradientMode.EXACT, GradientMode.BPDA), fnc.gradientModes());
        assertFalse(abs.usesClassifier() || abs.usesDiffusionModel());
    }

    @Test
    void givenBadDwOrFncSpecs_whenParsed_thenOneSentenceNamesTheAcceptedForm() {
        for (String bad : List.of("dw:theta", "dw:open9", "dw:blur2", "fnc:rel0", "fnc:abs-1", "fnc:foo",
                "fnc:rel2:abs3", "fnc:abs1,,2")) {
            LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse(bad), bad);
            assertTrue(e.getMessage().contains(bad.startsWith("dw") ? "dw[" : "fnc["), e.getMessage());
        }
        assertTrue(DefenseSpec.FORMS.contains("dw[") && DefenseSpec.FORMS.contains("fnc["), DefenseSpec.FORMS);
    }
}
