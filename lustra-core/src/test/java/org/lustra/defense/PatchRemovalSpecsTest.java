package org.lustra.defense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.defense.jedi.Jedi;
import org.lustra.defense.sac.PatchSegmenter;
import org.lustra.defense.sac.SegmentAndComplete;
import org.lustra.defense.sac.TinySac;
import org.lustra.model.ModelCard;
import org.lustra.util.LustraException;

/** The harness specs of the SAC-like defence ({@code sac…}) and Jedi ({@code jedi…}). */
class PatchRemovalSpecsTest {
    @TempDir
    Path tmp;

    private Path savedTinySegmenter() {
        Path dir = tmp.resolve("tiny-sac");
        try (PatchSegmenter s = TinySac.segmenter(3)) {
            s.save(new ModelCard("tiny-sac", "test", null, 0, null, "synthetic", "none", "test", 3, null, 0, null,
                    null, null, null, null, null), dir);
        }
        return dir;
    }

    @Test
    void givenJediSpecs_whenParsedAndTheirTextParsedAgain_thenTheSameValueComesBack() {
        for (String s : List.of("jedi:morph", "jedi:morph:r3:bins32:theta0.7", "jedi:morph:open0:close2:dilate1:telea5")) {
            DefenseSpec spec = DefenseSpec.parse(s);
            assertEquals(s, spec.text());
            assertEquals(spec, DefenseSpec.parse(spec.text()), s);
        }
        Purifier p = DefenseSpec.parse("jedi:morph:theta0.9").build(() -> {
            throw new AssertionError("Jedi needs no diffusion model");
        });
        assertEquals(0.9, assertInstanceOf(Jedi.class, p).options().theta());
        assertEquals(Set.of(GradientMode.BPDA, GradientMode.MASKED), p.gradientModes());
        assertFalse(p.randomized());
    }

    @Test
    void givenATrainedSegmenterDirectory_whenSacNamesItWithOptions_thenTheyLandAndTheLoadedNetworkIsTheSaved() {
        Path dir = savedTinySegmenter();
        String text = "sac:" + dir + ":tau0.6:gamma0.2:sides3-6:dilate0:zero";
        PatchRemovalSpecs.SacSpec spec = assertInstanceOf(PatchRemovalSpecs.SacSpec.class, DefenseSpec.parse(text));
        assertEquals(dir.toString(), spec.model());
        assertEquals(new SegmentAndComplete.Options(0.6, 3, 6, 0.2, 0, SegmentAndComplete.Removal.ZERO, 3),
                spec.options());
        assertFalse(spec.usesDiffusionModel() || spec.usesClassifier());
        try (DefenseFactory f = new DefenseFactory(); NDManager m = NDManager.newBaseManager();
                PatchSegmenter saved = TinySac.segmenter(3); PatchSegmenter loaded = PatchSegmenter.load(
                        dir.toString())) {
            Purifier p = f.create(spec);
            assertEquals(text, p.name());
            assertEquals(Set.of(GradientMode.BPDA, GradientMode.STE, GradientMode.MASKED), p.gradientModes());
            NDArray x = TinySac.images(2, 5).batch(m, 0, 2);
            assertArrayEquals(saved.logits(new ParameterStore(m, false), x, false).toFloatArray(),
                    loaded.logits(new ParameterStore(m, false), x, false).toFloatArray(), 0f);
        }
    }

    @Test
    void givenNoTrainedSegmenter_whenTheDefaultSacSpecIsParsed_thenOneSentenceSaysHowToTrainIt() throws Exception {
        Files.createDirectories(tmp.resolve("models"));
        Files.createDirectories(tmp.resolve("data"));
        String home = System.getProperty("lustra.home");
        System.setProperty("lustra.home", tmp.toString());
        try {
            for (String s : List.of("sac", "sac:tau0.4")) {
                LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse(s));
                assertTrue(e.getMessage().contains("sac-fmnist' is not trained yet"), e.getMessage());
                assertTrue(e.getMessage().endsWith("train it with 'lustra train sac'."), e.getMessage());
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
    void givenBadSacOrJediSpecs_whenParsed_thenOneSentenceNamesTheAcceptedForm() {
        Path dir = savedTinySegmenter();
        for (String bad : List.of("sac:" + dir + ":tau2", "sac:" + dir + ":gamma1", "sac:" + dir + ":sides6-3",
                "sac:" + dir + ":blur", "sac::tau0.5", "jedi:morph:theta0", "jedi:morph:r0", "jedi:morph:bins1", "jedi:morph:foo",
                "jedi:", "jedi:morph:tau0.5")) {
            LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse(bad), bad);
            assertTrue(e.getMessage().contains(bad.startsWith("sac") ? "sac[" : "jedi["), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        assertTrue(DefenseSpec.FORMS.contains("sac[") && DefenseSpec.FORMS.contains("jedi["), DefenseSpec.FORMS);
    }
}
