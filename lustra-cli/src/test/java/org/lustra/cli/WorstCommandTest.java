package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraHome;

/** {@code lustra eval worst}: Markdown on stdout or in --out, one sentence for a folder that is not a run. */
class WorstCommandTest {
    @TempDir
    Path tmp;

    @Test
    void givenACommittedRun_whenWrittenToOut_thenTheFileHoldsExactlyWhatStdoutPrints() throws Exception {
        String run = LustraHome.root().resolve("docs/results/maep-study-digits-shuffled").toString();
        Path out = tmp.resolve("WORST.md");

        CliErrorsTest.Run printed = CliErrorsTest.run("eval", "worst", run);
        CliErrorsTest.Run written = CliErrorsTest.run("eval", "worst", run, "--out", out.toString());

        assertEquals(0, printed.code(), printed.err());
        assertEquals(0, written.code(), written.err());
        assertTrue(printed.out().startsWith("# Per-image worst case across runs"), printed.out());
        assertTrue(printed.out().contains("| `maep` | ℓ∞ ε = 0.0314 (8/255) | no: an upper bound | 512 | 2 |"), printed.out());
        assertEquals(printed.out(), Files.readString(out, StandardCharsets.UTF_8));
        assertEquals("Worst case: " + out, written.out().trim());
    }

    @Test
    void givenAFolderThatIsNotARun_whenWorstRuns_thenOneSentenceSaysWhatToGive() {
        CliErrorsTest.assertOneSentence(CliErrorsTest.run("eval", "worst", tmp.toString()),
                "is not a run folder (no manifest.json); give folders `lustra eval run --out` wrote");
    }
}
