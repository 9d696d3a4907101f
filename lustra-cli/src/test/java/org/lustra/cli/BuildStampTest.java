package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.lustra.util.Versions;

/**
 * Which code made a run's records: the jar carries the commit it was built from, and `eval run` warns when that is
 * not the checkout's HEAD (whose commit the manifest records as gitCommit).
 */
class BuildStampTest {
    private static final String A = "a".repeat(40);
    private static final String B = "b".repeat(40);

    @Test
    void givenTheBuiltResourceWhenReadThenMavenHasReplacedThePlaceholder() throws IOException {
        try (InputStream in = Versions.class.getResourceAsStream("build.properties")) {
            assertNotNull(in, "build.properties is missing from the classes");
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertFalse(text.contains("${"), "the build stamp was copied unfiltered: " + text);
        }
        String build = Versions.buildCommit();
        assertTrue(build.equals(Versions.UNKNOWN) || build.matches("[0-9a-f]{40}(-dirty)?"), build);
        assertTrue(Versions.describe().containsKey("build"));
    }

    @Test
    void givenAJarBuiltFromAnotherCommitWhenARunStartsThenItSaysSoNamingBoth() {
        String note = ExperimentCommands.buildNote(B, A);
        assertNotNull(note);
        assertTrue(note.contains("bbbbbbbbbbbb") && note.contains("aaaaaaaaaaaa"), note);
    }

    @Test
    void givenTheSameCommitOrAnUnknownOneWhenARunStartsThenNothingIsSaid() {
        assertNull(ExperimentCommands.buildNote(A, A));
        assertNull(ExperimentCommands.buildNote(A + "-dirty", A), "dirtiness is recorded, not a different commit");
        assertNull(ExperimentCommands.buildNote(Versions.UNKNOWN, A));
        assertNull(ExperimentCommands.buildNote(A, "unknown"));
    }
}
