package org.lustra.defense;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.defense.jedi.Jedi;
import org.lustra.model.Classifier;

/** Calibrated defaults: a bare spec means the spec chosen for its classifier, when the rule was met. */
class CalibrationsTest {
    @TempDir
    Path tmp;
    private String home;

    /** A classifier that is only a name (building Jedi never calls it). */
    static Classifier named(String name) {
        return new Classifier() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int channels() {
                return 1;
            }

            @Override
            public int size() {
                return 28;
            }

            @Override
            public List<String> classNames() {
                return List.of("a", "b");
            }

            @Override
            public Output forward(NDArray x) {
                throw new AssertionError("not called");
            }

            @Override
            public void close() {}
        };
    }

    @BeforeEach
    void home() throws Exception {
        home = System.getProperty("lustra.home");
        Files.createDirectories(tmp.resolve("models"));
        Files.createDirectories(tmp.resolve("data"));
        Files.createDirectories(tmp.resolve(Calibrations.DIR));
        System.setProperty("lustra.home", tmp.toString());
    }

    @AfterEach
    void restore() {
        if (home == null) {
            System.clearProperty("lustra.home");
        } else {
            System.setProperty("lustra.home", home);
        }
    }

    private void write(String key, boolean met, String chosen) throws Exception {
        Files.writeString(tmp.resolve(Calibrations.DIR).resolve(key + ".json"), "{\"ruleMet\": " + met
                + ", \"chosenSpec\": \"" + chosen + "\"}", StandardCharsets.UTF_8);
    }

    private static Jedi build(String spec, String classifier) {
        try (DefenseFactory f = new DefenseFactory()) {
            return assertInstanceOf(Jedi.class, f.create(DefenseSpec.parse(spec), named(classifier)));
        }
    }

    @Test
    void givenACalibrationThatMetItsRule_whenTheBareSpecIsBuiltForThatClassifier_thenTheChosenValuesAreUsed()
            throws Exception {
        write("jedi-morph-c1", true, "jedi:morph:theta0.9:open0");
        assertEquals(Optional.of("jedi-morph-c1"), Calibrations.key(DefenseSpec.parse("jedi:morph"), "c1"));
        Jedi j = build("jedi:morph", "c1");
        assertEquals(0.9, j.options().theta());
        assertEquals(0, j.options().open());
        assertEquals(Jedi.Options.defaults().theta(), build("jedi:morph", "c2").options().theta(),
                "another classifier keeps the placeholder");
    }

    @Test
    void givenASpecWithOptionsOrARuleNotMet_whenBuilt_thenTheCalibrationIsNotUsed() throws Exception {
        write("jedi-morph-c1", true, "jedi:morph:theta0.9");
        assertEquals(0.8, build("jedi:morph:theta0.8", "c1").options().theta());
        assertTrue(Calibrations.key(DefenseSpec.parse("jedi:morph:theta0.8"), "c1").isEmpty());
        write("jedi-morph-c3", false, "jedi:morph:theta0.95");
        assertEquals(Jedi.Options.defaults().theta(), build("jedi:morph", "c3").options().theta());
    }

    @Test
    void givenBareSpecs_whenKeyed_thenTheKeyNamesDefenceModelAndClassifier() {
        assertEquals(Optional.of("dw-c"), Calibrations.key(DefenseSpec.parse("dw"), "c"));
        assertEquals(Optional.of("fnc-c"), Calibrations.key(DefenseSpec.parse("fnc"), "c"));
        assertTrue(Calibrations.key(DefenseSpec.parse("dw:theta2"), "c").isEmpty());
        assertTrue(Calibrations.key(DefenseSpec.parse("fnc:rel2"), "c").isEmpty());
    }
}
