package org.lustra.defense.hetero;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.defense.DefenseSpec;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;

/** The harness spec {@code hetero[:…]}: parsed once into options, validated, built only with the classifier. */
class HeteroSpecTest {

    @Test
    void givenBareHetero_whenParsed_thenTheBuilderDefaultsApply() {
        DefenseSpec s = DefenseSpec.parse("hetero");
        HeteroOptions o = assertInstanceOf(DefenseSpec.HeteroSpec.class, s).options();
        assertEquals(HeteroOptions.builder().build(), o);
        assertTrue(s.usesDiffusionModel() && s.usesClassifier());
    }

    @Test
    void givenTheCommittedValidationSweep_whenItsChoiceIsParsed_thenItIsExactlyTheBuilderDefaults() throws Exception {
        Path sweep = LustraHome.root().resolve(
                "docs/results/calibration/hetero-stride10-diffusion-unified-classifier-resnet.json");
        JsonObject result = JsonParser.parseString(Files.readString(sweep)).getAsJsonObject();
        assertTrue(result.get("ruleMet").getAsBoolean(), "the defaults rest on a sweep whose rule was met");
        assertEquals(HeteroOptions.builder().build(), HeteroOptions.parse(result.get("chosen").getAsString()));
    }

    @Test
    void givenEveryOption_whenParsed_thenEachLandsInItsField() {
        HeteroOptions o = HeteroOptions.parse("hetero:tl0.3:ts0.05:ddpm:eta0.5:multi5:inpaint:softmax:top0.15:p3:root"
                + ":stages0,2:surr7");
        assertEquals(0.3, o.tLarge());
        assertEquals(0.05, o.tSmall());
        assertEquals(HeteroOptions.Solver.DDPM, o.solver());
        assertEquals(1, o.stride());
        assertEquals(0.5, o.eta());
        assertEquals(HeteroOptions.Resampling.MULTI, o.resampling());
        assertEquals(5, o.resampleSteps());
        assertEquals(HeteroOptions.Conditioning.INPAINT, o.conditioning());
        assertEquals(new AttentionMask.Options(3, true, AttentionMask.Normalization.SOFTMAX,
                AttentionMask.Threshold.TOP_FRACTION, 0.15, List.of(0, 2)), o.mask());
        assertEquals(7, o.surrogateSteps());
        assertEquals(4, HeteroOptions.parse("hetero:stride4:single10:tau0.8").stride());
    }

    @Test
    void givenSwappedNoiseLevels_whenParsed_thenOneSentenceNamesTheRule() {
        LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse("hetero:tl0.05:ts0.2"));
        assertTrue(e.getMessage().contains("t_s < t_l"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void givenAnUnknownOption_whenParsed_thenTheMessageNamesIt() {
        LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse("hetero:bogus"));
        assertTrue(e.getMessage().contains("bogus"), e.getMessage());
    }

    @Test
    void givenNoClassifier_whenBuilt_thenTheErrorSaysWhichFactoryCallToUse() {
        DefenseSpec s = DefenseSpec.parse("hetero:single3");
        LustraException e = assertThrows(LustraException.class, () -> s.build(() -> null));
        assertTrue(e.getMessage().contains("protected classifier"), e.getMessage());
    }
}
