package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;

/** A config runs exactly what it says: a key the harness does not read is an error, not a silent default. */
class ExperimentConfigKeysTest {
    @TempDir
    Path dir;

    private Path config(String json) throws IOException {
        Path f = dir.resolve("c.json");
        Files.writeString(f, json);
        return f;
    }

    @Test
    void givenAMisspeltTopLevelKey_whenRead_thenItIsNamedWithTheKeyMeant() throws IOException {
        Path f = config("{\"name\": \"x\", \"gradient\": \"worst-of\", \"skipfooled\": true,"
                + " \"attacks\": [{\"attack\": \"lavan\"}]}");

        LustraException e = assertThrows(LustraException.class, () -> Experiment.read(f));

        assertTrue(e.getMessage().contains("\"skipfooled\""), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean \"skipFooled\""), e.getMessage());
    }

    @Test
    void givenAnUnknownKeyInAnAttackEntry_whenRead_thenItIsRefused() throws IOException {
        Path f = config("{\"name\": \"x\", \"attacks\": [{\"attack\": \"pgd\", \"norm\": \"linf\","
                + " \"eps\": [0.03], \"iterations\": 50}]}");

        LustraException e = assertThrows(LustraException.class, () -> Experiment.read(f));

        assertTrue(e.getMessage().contains("\"iterations\"") && e.getMessage().contains("steps"), e.getMessage());
    }

    @Test
    void givenOnlyKnownKeys_whenRead_thenTheSettingsAreBound() throws IOException {
        Path f = config("{\"name\": \"x\", \"gradient\": \"worst-of\", \"skipFooled\": true,"
                + " \"attacks\": [{\"attack\": \"lavan\", \"fraction\": 0.12}]}");

        Experiment e = Experiment.read(f);

        assertTrue(e.skipsFooledImages());
        assertEquals("lavan-0.120", e.expandedAttacks().get(0).id());
    }

    @Test
    void givenAnArrayInsteadOfAnObject_whenRead_thenTheMessageSaysWhatWasExpected() throws IOException {
        Path f = config("[{\"name\": \"x\"}]");

        LustraException e = assertThrows(LustraException.class, () -> Experiment.read(f));

        assertTrue(e.getMessage().contains("expected a JSON object"), e.getMessage());
    }

    @Test
    void givenEveryShippedConfig_whenRead_thenEachIsValidAndNamesAreUnique() throws IOException {
        List<Path> configs;
        try (Stream<Path> s = Files.walk(LustraHome.root().resolve("experiments"))) {
            configs = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertFalse(configs.size() < 50, "the premise: the shipped configs are found, got " + configs.size());

        Map<String, Path> byName = new HashMap<>();
        for (Path c : configs) {
            Experiment e = Experiment.read(c);
            Path other = byName.put(e.name(), c);
            assertEquals(null, other, "two configs named " + e.name() + " could not be told apart in reports and worst-case tables");
        }
    }
}
