package org.lustra.eval.table1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lustra.eval.table1.RunFolders.record;

import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.eval.RunDirectory;
import org.lustra.eval.worst.ImageKey;
import org.lustra.util.LustraException;

/** The table of a synthetic folder: finished, unfinished and missing run folders, and the inputs it refuses. */
class Table1Test {
    private static final String LAVAN = "jpeg:75|lavan-0.050|adaptive";
    private static final String ADVP = "jpeg:75|advp-0.050|adaptive";

    @TempDir
    Path folder;

    @Test
    void givenAFinishedRun_whenTheTableIsMade_thenTheRowShowsTheReportsScoresAndTheWorstCase() throws Exception {
        RunFolders.finished(folder, "adaptive", 4, List.of(LAVAN, ADVP), List.of(record(LAVAN, 0, true),
                record(LAVAN, 1, true), record(LAVAN, 2, false), record(LAVAN, 3, true), record(ADVP, 0, true),
                record(ADVP, 1, false), record(ADVP, 2, true), record(ADVP, 3, true)));
        RunFolders.spec(folder, List.of("adaptive"), List.of("lavan-0.050", "advp-0.050"), List.of("jpeg:75"),
                List.of("lavan-0.050", "advp-0.050"), List.of());

        String table = Table1.markdown(folder, "tiny");

        // clean 4/4; LaVAN A 3/4, AdvP A 3/4; worst case 2/4 with Wilson's 95 % interval [0.150, 0.850]
        assertTrue(table.contains("| jpeg:75 (`jpeg:75`) | 100.0 (–) | – | 75.0 | – | 75.0 "
                + "| 50.0 n=4 [15.0–85.0] |"), table);
        assertTrue(table.contains("- `adaptive`: 8 of 8 image evaluations, all sanity checks passed"), table);
    }

    @Test
    void givenARunWithJournalButNoReport_whenItsFolderIsRead_thenOnlyItsCompleteCellsCountAndItIsMarkedUnfinished()
            throws Exception {
        // LaVAN has both images, AdvP one of two; a line torn by a kill is skipped
        RunFolders.unfinished(folder, "going", 2, List.of(LAVAN, ADVP), List.of(
                RunDirectory.line(record(LAVAN, 0, true)), RunDirectory.line(record(LAVAN, 1, false)),
                RunDirectory.line(record(ADVP, 0, true)), "{\"seed\":1,\"cell\":\"jpeg:7"));
        RunFolders.spec(folder, List.of("going"), List.of("lavan-0.050", "advp-0.050"), List.of("jpeg:75"),
                List.of("lavan-0.050"), List.of());

        Table1Runs runs = Table1Runs.read(folder, Table1Spec.read(folder));

        assertEquals(List.of(LAVAN), List.copyOf(runs.cells().keySet()));
        Table1Cell lavan = runs.cells().get(LAVAN);
        assertEquals("going (unfinished run: scored from its journal)", lavan.run());
        assertEquals(0.5, lavan.robustMean(), 0);
        assertEquals(List.of("`going`: UNFINISHED — 1 of 2 cells complete in the journal, scored from samples.jsonl "
                + "(no report.json, so the harness's sanity checks have not run on it); under way, not in the table: "
                + "`jpeg:75|advp-0.050|adaptive` 1 of 2 images so far, robust 100.0 %"), runs.status());
        assertTrue(Table1.markdown(folder, "tiny").contains("| `jpeg:75\\|lavan-0.050\\|adaptive` | going "
                + "(unfinished run: scored from its journal) |"));
    }

    @Test
    void givenARandomisedCellUnderWay_whenItsFolderIsRead_thenTheStatusQuotesItsImagesAndThreeScoresButTheTableNot()
            throws Exception {
        // 3 of 4 images journaled: majority robust on 2, the first draw on 1, every draw on 0
        String cell = "diffpure:0.1:ddim10|lavan-0.050|adaptive";
        RunFolders.unfinished(folder, "slow", 4, List.of(cell), List.of(
                RunDirectory.line(RunFolders.randomised(cell, 0, true, true, true)),
                RunDirectory.line(RunFolders.randomised(cell, 1, false, true, true)),
                RunDirectory.line(RunFolders.randomised(cell, 2, false, false, true))));
        RunFolders.spec(folder, List.of("slow"), List.of("lavan-0.050"), List.of("diffpure:0.1:ddim10"),
                List.of("lavan-0.050"), List.of());

        Table1Runs runs = Table1Runs.read(folder, Table1Spec.read(folder));

        assertTrue(runs.cells().isEmpty(), "a cell under way is not scored into the table");
        assertEquals(List.of("`slow`: UNFINISHED — 0 of 1 cells complete in the journal, scored from samples.jsonl "
                + "(no report.json, so the harness's sanity checks have not run on it); under way, not in the table: "
                + "`diffpure:0.1:ddim10|lavan-0.050|adaptive` 3 of 4 images so far, majority 66.7 % (single 33.3, "
                + "any-of-K 0.0)"), runs.status());
    }

    @Test
    void givenARunFolderThatWasNeverRun_whenTheTableIsMade_thenItsCellsAreMissingAndTheFolderIsReported()
            throws Exception {
        RunFolders.spec(folder, List.of("later"), List.of("lavan-0.050"), List.of("jpeg:75"),
                List.of("lavan-0.050"), List.of());

        String table = Table1.markdown(folder, "tiny");

        assertTrue(table.contains("| jpeg:75 (`jpeg:75`) | – (–) | – | – | – |"), table);
        assertTrue(table.contains("- `later`: not run yet"), table);
    }

    @Test
    void givenAFinishedRunWithANonFiniteRecord_whenTheTableIsMade_thenItStopsNamingTheRunAndTheImage()
            throws Exception {
        RunFolders.finished(folder, "adaptive", 2, List.of(LAVAN), List.of(record(LAVAN, 0, true),
                RunFolders.nonFinite(LAVAN, 1)));
        RunFolders.spec(folder, List.of("adaptive"), List.of("lavan-0.050"), List.of("jpeg:75"),
                List.of("lavan-0.050"), List.of());

        LustraException e = assertThrows(LustraException.class, () -> Table1.markdown(folder, "tiny"));

        assertTrue(e.getMessage().contains("adaptive has a non-finite record (" + LAVAN + " image 1)"),
                e.getMessage());
    }

    @Test
    void givenTheSameCellInTwoRunFolders_whenTheTableIsMade_thenItStopsNamingBoth() throws Exception {
        RunFolders.finished(folder, "first", 1, List.of(LAVAN), List.of(record(LAVAN, 0, true)));
        RunFolders.finished(folder, "again", 1, List.of(LAVAN), List.of(record(LAVAN, 0, false)));
        RunFolders.spec(folder, List.of("first", "again"), List.of("lavan-0.050"), List.of("jpeg:75"),
                List.of("lavan-0.050"), List.of());

        LustraException e = assertThrows(LustraException.class, () -> Table1.markdown(folder, "tiny"));

        assertTrue(e.getMessage().contains("appears in two run folders (first and again)"), e.getMessage());
    }

    @Test
    void givenANonAdaptiveCellInTwoFoldersAndOnlyModes_whenTheTableIsMade_thenItIsReadFromTheFolderNamedForIt()
            throws Exception {
        String na = "jpeg:75|lavan-0.050|nonadaptive";
        String route = LAVAN + "@BPDA";
        // "small" holds both modes (and a worst-of route cell) on 2 images; "large" the non-adaptive cell on 4 images
        RunFolders.finished(folder, "small", 2, List.of(na, LAVAN, route), List.of(record(na, 0, true),
                record(na, 1, false), record(LAVAN, 0, true), record(LAVAN, 1, false), record(route, 0, true),
                record(route, 1, false)));
        RunFolders.finished(folder, "large", 4, List.of(na), List.of(record(na, 0, true), record(na, 1, true),
                record(na, 2, true), record(na, 3, false)));
        RunFolders.spec(folder, List.of("small", "large"), List.of("lavan-0.050"), List.of("jpeg:75"),
                List.of("lavan-0.050"), List.of());
        RunFolders.onlyModes(folder, "small", List.of("adaptive"));

        Table1Runs runs = Table1Runs.read(folder, Table1Spec.read(folder));

        assertEquals("large", runs.cells().get(na).run());
        assertEquals(0.75, runs.cells().get(na).robustMean(), 0);
        assertEquals("small", runs.cells().get(LAVAN).run());
        assertEquals("small", runs.cells().get(route).run(), "a route cell goes with its adaptive cell");
        assertEquals(Set.of(LAVAN, route, na), runs.records().keySet());
        assertEquals(4, runs.records().get(na).size());
        assertTrue(runs.status().get(0).endsWith("(the table reads its adaptive cells only)"), runs.status().get(0));
    }

    @Test
    void givenOneAttacksCellsInTwoFoldersAndSkipAttacks_whenTheTableIsMade_thenThatAttackIsReadFromTheOtherFolder()
            throws Exception {
        String small = "jpeg:75|lavan-0.050|nonadaptive";
        String large = "jpeg:75|lavan-0.120|nonadaptive";
        // "old" holds both attacks; "rerun" the 12 % cell again (e.g. paired and full length)
        RunFolders.finished(folder, "old", 2, List.of(small, large), List.of(record(small, 0, true),
                record(small, 1, false), record(large, 0, true), record(large, 1, true)));
        RunFolders.finished(folder, "rerun", 2, List.of(large), List.of(record(large, 0, false),
                record(large, 1, true)));
        RunFolders.spec(folder, List.of("old", "rerun"), List.of("lavan-0.050", "lavan-0.120"), List.of("jpeg:75"),
                List.of("lavan-0.050"), List.of());
        RunFolders.skipAttacks(folder, "old", List.of("lavan-0.120"));

        Table1Runs runs = Table1Runs.read(folder, Table1Spec.read(folder));

        assertEquals("rerun", runs.cells().get(large).run());
        assertEquals(0.5, runs.cells().get(large).robustMean(), 0);
        assertEquals("old", runs.cells().get(small).run());
        assertFalse(runs.records().get(large).get(new ImageKey(1, 0)).robust(), "the rerun's records");
        assertTrue(runs.status().get(0).endsWith("(the table skips its lavan-0.120 cells)"), runs.status().get(0));
    }

    @Test
    void givenSkipAttacksNamingOneDefencesCell_whenTheTableIsMade_thenOnlyThatRowsCellComesFromTheOtherFolder()
            throws Exception {
        String jpeg = "jpeg:75|lavan-0.120|nonadaptive";
        String none = "none|lavan-0.120|nonadaptive";
        // "old" holds both rows' 12 % cells; "rerun" only JPEG's (e.g. on more images)
        RunFolders.finished(folder, "old", 2, List.of(jpeg, none), List.of(record(jpeg, 0, true),
                record(jpeg, 1, true), record(none, 0, false), record(none, 1, true)));
        RunFolders.finished(folder, "rerun", 2, List.of(jpeg), List.of(record(jpeg, 0, false),
                record(jpeg, 1, true)));
        RunFolders.spec(folder, List.of("old", "rerun"), List.of("lavan-0.120"), List.of("none", "jpeg:75"),
                List.of("lavan-0.120"), List.of());
        RunFolders.skipAttacks(folder, "old", List.of("jpeg:75|lavan-0.120"));

        Table1Runs runs = Table1Runs.read(folder, Table1Spec.read(folder));

        assertEquals("rerun", runs.cells().get(jpeg).run());
        assertEquals(0.5, runs.cells().get(jpeg).robustMean(), 0);
        assertEquals("old", runs.cells().get(none).run(), "the other row's cell of that attack is still read");
        assertEquals(0.5, runs.cells().get(none).robustMean(), 0);
    }

    @Test
    void givenOnlyModesNamingAFolderNotInRuns_whenTheTableIsMade_thenTheSentenceNamesIt() throws Exception {
        RunFolders.spec(folder, List.of("small"), List.of("lavan-0.050"), List.of("jpeg:75"),
                List.of("lavan-0.050"), List.of());
        RunFolders.onlyModes(folder, "elsewhere", List.of("adaptive"));

        LustraException e = assertThrows(LustraException.class, () -> Table1.markdown(folder, "tiny"));

        assertTrue(e.getMessage().contains("\"onlyModes\" names elsewhere, which \"runs\" does not list"),
                e.getMessage());
    }

    @Test
    void givenAFolderWithoutTable1Json_whenTheTableIsMade_thenTheSentenceNamesTheFileAndAnExample() {
        LustraException e = assertThrows(LustraException.class, () -> Table1.markdown(folder, "tiny"));

        assertTrue(e.getMessage().contains("has no table1.json") && e.getMessage().contains("table1-resnet"),
                e.getMessage());
    }

    @Test
    void givenMalformedTable1Json_whenTheTableIsMade_thenTheSentenceSaysItIsNotValidJson() throws Exception {
        Files.writeString(folder.resolve(Table1Spec.FILE), "{\"title\": \"x\", \"runs\": [", StandardCharsets.UTF_8);

        LustraException e = assertThrows(LustraException.class, () -> Table1.markdown(folder, "tiny"));

        assertTrue(e.getMessage().contains("is not valid JSON"), e.getMessage());
    }

    @Test
    void givenTable1JsonWithoutRuns_whenTheTableIsMade_thenTheSentenceNamesTheMissingField() throws Exception {
        Files.writeString(folder.resolve(Table1Spec.FILE), "{\"title\": \"x\", \"seedModel\": \"y\", \"columns\": "
                + "[{\"attack\": \"lavan-0.050\", \"label\": \"L\"}], \"rows\": [{\"defense\": \"none\", \"label\": "
                + "\"U\"}], \"worstOf\": [\"lavan-0.050\"]}", StandardCharsets.UTF_8);

        LustraException e = assertThrows(LustraException.class, () -> Table1.markdown(folder, "tiny"));

        assertTrue(e.getMessage().contains("\"runs\" lists no run folder"), e.getMessage());
    }

    @Test
    void givenAMissingFolder_whenTheTableIsMade_thenTheSentenceSaysWhatFolderToGive() {
        LustraException e = assertThrows(LustraException.class,
                () -> Table1.markdown(folder.resolve("absent"), "absent"));

        assertTrue(e.getMessage().contains("is not a folder; give the folder that holds table1.json"),
                e.getMessage());
    }

    @Test
    void givenExactTies_whenFormatted_thenTheyRoundHalfEvenAsTheCommittedTablesDo() {
        assertEquals("4", Table1Markdown.fixed(4.5, 0));
        assertEquals("6", Table1Markdown.fixed(5.5, 0));
        assertEquals("12.9", Table1Markdown.percent(0.12890625));
        assertEquals("–", Table1Markdown.percent(null));
        assertEquals("100.0", Table1Markdown.seedNumber(JsonParser.parseString("100.0")
                .getAsNumber()));
        assertEquals("65.2", Table1Markdown.seedNumber(JsonParser.parseString("65.20")
                .getAsNumber()));
    }
}
