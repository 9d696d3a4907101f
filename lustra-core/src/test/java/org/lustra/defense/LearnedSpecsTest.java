package org.lustra.defense;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.defense.learned.LearnedModels;
import org.lustra.defense.learned.PairTraining;
import org.lustra.defense.learned.TinyPurifiers;
import org.lustra.defense.maep.MaepNetwork;
import org.lustra.util.LustraException;

class LearnedSpecsTest {
    @TempDir
    Path tmp;

    private Path savedTinyMaep() {
        MaepNetwork net = MaepNetwork.create(TinyPurifiers.MAEP, NDManager.newBaseManager(), 1);
        try {
            PairTraining.Options opt = new PairTraining.Options(1, 2, 1e-3f, 0, 0f, List.of(0.1), 1, 1L, 60, 1);
            Path dir = tmp.resolve("tiny-maep");
            LearnedModels.save(net, LearnedModels.card("tiny-maep", "test", new PairTraining.Result(net, 0, 0, 0,
                    List.of()), opt, "tiny", TinyPurifiers.CLASSES, "synthetic", "none", "test"), dir);
            return dir;
        } finally {
            net.close();
        }
    }

    @Test
    void givenATrainedModelDirectory_whenMaepNamesIt_thenTheSpecBuildsAnExactDeterministicPurifier() {
        Path dir = savedTinyMaep();
        DefenseSpec spec = DefenseSpec.parse("maep:" + dir);
        DefenseSpec.LearnedSpec learned = assertInstanceOf(spec);
        assertEquals("maep", learned.kind());
        assertEquals(dir.toString(), learned.model());
        assertFalse(spec.usesDiffusionModel());
        try (DefenseFactory f = new DefenseFactory()) {
            Purifier p = f.create(spec);
            assertEquals("maep:" + dir, p.name());
            assertTrue(p.gradientModes().contains(GradientMode.EXACT));
            assertFalse(p.randomized());
        }
    }

    private static DefenseSpec.LearnedSpec assertInstanceOf(DefenseSpec spec) {
        assertTrue(spec instanceof DefenseSpec.LearnedSpec, spec.toString());
        return (DefenseSpec.LearnedSpec) spec;
    }

    @Test
    void givenNoTrainedModel_whenTheDefaultSpecIsParsed_thenOneSentenceSaysHowToTrainIt() throws Exception {
        Files.createDirectories(tmp.resolve("models"));
        Files.createDirectories(tmp.resolve("data"));
        String home = System.getProperty("lustra.home");
        System.setProperty("lustra.home", tmp.toString());
        try {
            for (String kind : List.of("maep", "disco")) {
                LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse(kind));
                assertTrue(e.getMessage().contains(kind + "-fmnist' is not trained yet"), e.getMessage());
                assertTrue(e.getMessage().endsWith("train it with 'lustra train " + kind + "'."), e.getMessage());
            }
        } finally {
            if (home == null) {
                System.clearProperty("lustra.home");
            } else {
                System.setProperty("lustra.home", home);
            }
        }
    }

    @Test
    void givenAModelOfTheOtherKind_whenDiscoNamesIt_thenParsingSaysWhichKindItIs() {
        Path dir = savedTinyMaep();
        LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse("disco:" + dir));
        assertTrue(e.getMessage().contains("is a maep model, not a disco model"), e.getMessage());
    }

    @Test
    void givenMalformedSpecs_whenParsed_thenTheyAreRejectedAndTheFormsListThem() {
        for (String bad : List.of("maep:", "maep:a:b", "disco:x:y")) {
            LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("Invalid defence '" + bad + "'"), e.getMessage());
        }
        assertThrows(LustraException.class, () -> DefenseSpec.parse("maepx"));
        assertTrue(DefenseSpec.FORMS.contains("maep[:NAME]") && DefenseSpec.FORMS.contains("disco[:NAME]"));
    }
}
