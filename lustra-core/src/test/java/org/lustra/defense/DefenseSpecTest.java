package org.lustra.defense;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.defense.diffender.Diffender;
import org.lustra.defense.diffender.PatchLocalizer;
import org.lustra.defense.diffender.TunedPrompts;
import org.lustra.defense.disco.Disco;
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
        DiffenderSpec spec = DefenseSpec.parse("diffender:ep:rec:abar0.7:ddim5").asDiffender()
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

    /**
     * The models a run's manifest hashes for a defence: the diffusion model it runs on and the weights of its own (bare
     * {@code jedi} means the shipped autoencoder, {@code jedi:morph} none); asking loads nothing.
     */
    @Test
    void givenEachDefenceFamily_whenAskedWhichModelsItLoads_thenTheFactoryNamesEveryWeightFile() {
        try (DefenseFactory f = new DefenseFactory("diffusion-unified")) {
            String c = "classifier-resnet";
            assertEquals(List.of("maep-fmnist"), f.models(DefenseSpec.parse("maep"), c));
            assertEquals(List.of("sac-fmnist"), f.models(DefenseSpec.parse("sac"), c));
            assertEquals(List.of("sac-fmnist"), f.models(DefenseSpec.parse("sac:sac-fmnist:tau0.6"), c));
            assertEquals(List.of("jedi-autoencoder"), f.models(DefenseSpec.parse("jedi"), c));
            assertEquals(List.of(), f.models(DefenseSpec.parse("jedi:morph"), c));
            for (String diffusion : List.of("diffpure:0.1:ddim10", "diffender", "hetero")) {
                assertEquals(List.of("diffusion-unified"), f.models(DefenseSpec.parse(diffusion), c), diffusion);
            }
            for (String plain : List.of("none", "jpeg:75", "median:3", "bits:3", "lgs", "dw", "fnc")) {
                assertEquals(List.of(), f.models(DefenseSpec.parse(plain), c), plain);
            }
        }
    }

    /**
     * Specs made directly (parsing would check the shipped files, and this test is about naming, not files): each names
     * its weights, and the factory puts DIFFender's prompts after the diffusion model they condition.
     */
    @Test
    void givenSpecsOfUnshippedWeights_whenAskedWhichModelsTheyLoad_thenTheyNameThem() {
        DefenseSpec disco = new DefenseSpec.LearnedSpec("disco", "disco", Disco.DEFAULT_MODEL);
        DefenseSpec tuned = new DiffenderSpec("diffender:tuned", Diffender.Options.manual(), true);
        try (DefenseFactory f = new DefenseFactory("diffusion-unified")) {
            assertEquals(List.of(Disco.DEFAULT_MODEL), f.models(disco, "classifier-resnet"));
            assertEquals(List.of("diffusion-unified", TunedPrompts.NAME), f.models(tuned, "classifier-resnet"));
        }
        assertEquals(List.of(), new DiffenderSpec("diffender", Diffender.Options.manual(), false)
                .trainedModels());
    }

    @Test
    void givenANonDiffenderSpec_whenAskedForDiffenderOptions_thenThereAreNone() {
        assertTrue(DefenseSpec.parse("lgs").asDiffender().isEmpty());
    }
}
