package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.Json;
import org.lustra.util.LustraException;

/** The optional "diffusion" field of an experiment config: absent means the shipped model and stays absent. */
class ExperimentDiffusionTest {
    private static final String BODY = "\"name\": \"x\", \"defenses\": [\"hetero\"], \"attacks\": [{\"attack\": "
            + "\"pgd\", \"norm\": \"linf\", \"eps\": [0.03]}]";

    @TempDir
    Path dir;

    private Experiment read(String json) throws Exception {
        Path f = dir.resolve("e.json");
        Files.writeString(f, json);
        return Experiment.read(f);
    }

    @Test
    void givenNoDiffusionField_whenRead_thenV1AndNoFieldInTheManifestText() throws Exception {
        Experiment e = read("{" + BODY + "}");
        // v1 by name, not the default: a config written before the field existed ran on v1 and must keep meaning it
        assertEquals("diffusion-unified", e.diffusionModel());
        assertFalse(Json.GSON.toJson(e).contains("diffusion"), "configs written before the field keep their text");
    }

    @Test
    void givenADiffusionField_whenRead_thenThatModelIsUsed() throws Exception {
        assertEquals("diffusion-unified-v2", read("{" + BODY + ", \"diffusion\": \"diffusion-unified-v2\"}")
                .diffusionModel());
    }

    @Test
    void givenAPathAsDiffusionModel_whenConstructed_thenOneSentenceNamesTheRule() {
        LustraException e = assertThrows(LustraException.class, () -> Experiment.builder("x", null)
                .optDefenses("hetero")
                .optAttacks(Experiment.AttackConfig.builder("pgd").optNorm("linf").optEps(0.03).build())
                .optDiffusion("../x y").build());
        assertTrue(e.getMessage().contains("../x y") && !e.getMessage().contains("\n"), e.getMessage());
    }
}
