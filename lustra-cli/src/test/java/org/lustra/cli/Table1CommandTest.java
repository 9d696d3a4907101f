package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraHome;

/** {@code lustra eval table1}: Markdown on stdout or in --out, one sentence for a bad folder. */
class Table1CommandTest {
    @TempDir
    Path tmp;

    @Test
    void givenTheCommittedFolder_whenWrittenToOut_thenTheFileHoldsExactlyWhatStdoutPrints() throws Exception {
        String folder = LustraHome.root().resolve("docs/results/table1-resnet").toString();
        Path out = tmp.resolve("TABLE.md");

        CliErrorsTest.Run printed = CliErrorsTest.run("eval", "table1", folder);
        CliErrorsTest.Run written = CliErrorsTest.run("eval", "table1", folder, "--out", out.toString());

        assertEquals(0, printed.code(), printed.err());
        assertEquals(0, written.code(), written.err());
        assertTrue(printed.out().startsWith("# DIFFender Table 1 analogue"), printed.out());
        assertEquals(printed.out(), Files.readString(out, StandardCharsets.UTF_8));
        assertEquals("Table: " + out, written.out().trim());
    }

    @Test
    void givenAFolderThatDoesNotExist_whenTable1Runs_thenOneSentenceSaysWhichFolderToGive() {
        CliErrorsTest.assertOneSentence(CliErrorsTest.run("eval", "table1", tmp.resolve("absent").toString()),
                "is not a folder; give the folder that holds table1.json");
    }

    @Test
    void givenAFolderWithoutTable1Json_whenTable1Runs_thenOneSentenceNamesTheMissingFile() {
        CliErrorsTest.assertOneSentence(CliErrorsTest.run("eval", "table1", tmp.toString()), "has no table1.json");
    }
}
