package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.attack.GradientCounts;

/**
 * "Zero gradients on more than a few rows → a warning in that cell of the report" (issue 9): the report warns when
 * more than 2 % of a cell's gradient rows (and more than 2 rows) were exactly zero, counting each chunk once.
 */
class ZeroGradientWarningTest {
    @TempDir
    Path tmp;

    private static final CellInfo INFO = new CellInfo("bits:3", "pgd-linf-0.0300-s2", "adaptive", "EXACT", "threat",
            "linf eps=0.03");

    /** Four records of chunk {@code chunk} of {@code cell}, carrying that chunk's gradient counts. */
    private static List<SampleRecord> chunk(String cell, int chunk, GradientCounts g) {
        int n = 4;
        float[] clean = new float[n * 4];
        float[] adv = new float[n * 4];
        for (int j = 0; j < clean.length; j++) {
            clean[j] = 0.5f;
            adv[j] = 0.52f;
        }
        int[][] votes = new int[1][n];
        return Scoring.records(new Scoring.Chunk(1, cell, chunk, chunk * n, new int[n], clean, adv, null,
                new boolean[n], votes, votes, 1, 2, 2, 1, 1, g, null, null, null, null));
    }

    /** A cell of two chunks of four records, each chunk with 500 gradient rows and the given zero rows. */
    private static List<SampleRecord> twoChunks(String cell, int zeroFirst, int zeroSecond) {
        List<SampleRecord> recs = new ArrayList<>(chunk(cell, 0, new GradientCounts(500, 0, zeroFirst)));
        recs.addAll(chunk(cell, 1, new GradientCounts(500, 0, zeroSecond)));
        return recs;
    }

    private static boolean warnsZero(Report.CellSummary s) {
        return s.warnings().stream().anyMatch(w -> w.contains("exactly zero"));
    }

    @Test
    void givenMoreThanTwoPercentZeroRows_whenScored_thenTheCellWarns() {
        // given 21 of 1000 rows zero (two chunks of 500, each counted once although four records carry it)
        Report.CellSummary s = Report.scoreCell("c", INFO, twoChunks("c", 10, 11));

        // then
        assertEquals(1000, s.gradientRows());
        assertEquals(21, s.zeroGradients());
        assertTrue(s.warnings().contains("21 of 1000 gradient rows were exactly zero (cut graph or masked gradients?)"),
                s.warnings().toString());
    }

    @Test
    void givenExactlyTwoPercentZeroRows_whenScored_thenNoZeroGradientWarning() {
        // given 20 of 1000: not more than 2 %
        Report.CellSummary s = Report.scoreCell("c", INFO, twoChunks("c", 10, 10));

        // then
        assertEquals(20, s.zeroGradients());
        assertFalse(warnsZero(s), s.warnings().toString());
    }

    @Test
    void givenAFewRowsOnly_whenTwoOrThreeAreZero_thenOnlyMoreThanTwoWarn() {
        // 100 rows: 2 % is 2 rows; 50 rows: 2 % is one row, so 2 zero rows (4 %) stay quiet only by the floor of 2
        for (int rows : new int[] {100, 50}) {
            Report.CellSummary two = Report.scoreCell("c", INFO, chunk("c", 0, new GradientCounts(rows, 0, 2)));
            Report.CellSummary three = Report.scoreCell("c", INFO, chunk("c", 0, new GradientCounts(rows, 0, 3)));
            assertFalse(warnsZero(two), rows + " rows: " + two.warnings());
            assertTrue(warnsZero(three), rows + " rows: " + three.warnings());
        }
    }

    @Test
    void givenARunWithOneCellAboveAndOneAtTheThreshold_whenTheReportIsWritten_thenOnlyTheFirstRowShowsTheWarning()
            throws Exception {
        // given a run directory as the harness leaves it: manifest and journal of two cells
        Experiment exp = Experiment.builder("zero", "classifier-resnet").optSubset("eval512").optImages(8)
                .optProfile("quick").optSeeds(1L).optDefenses("bits:3").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.03, 2),
                        ExperimentRunnerTest.attack("fgsm", "linf", 0.03, 1))
                .optBatch(4).build();
        List<Experiment.Cell> cells = exp.cells();
        assertEquals(2, cells.size(), cells.toString());
        Map<String, CellInfo> infos = new LinkedHashMap<>();
        for (Experiment.Cell c : cells) {
            infos.put(c.id(), new CellInfo(c.defense(), c.attack().id(), c.mode(), "EXACT through bits:3",
                    "threat of " + c.id(), "linf eps=0.03"));
        }
        RunDirectory run = new RunDirectory(tmp);
        run.writeManifest(new Manifest(exp, "2026-12-02", "test", Map.of(), infos, 8, "classifier-resnet",
                List.of()));
        List<SampleRecord> recs = new ArrayList<>(twoChunks(cells.get(0).id(), 10, 11)); // 21 of 1000: warns
        recs.addAll(twoChunks(cells.get(1).id(), 10, 10)); // 20 of 1000: does not
        Files.writeString(run.samplesFile(), String.join("\n", recs.stream().map(RunDirectory::line).toList())
                + "\n");

        // when
        Report.write(tmp);

        // then the warning stands in the table row of the first cell alone
        List<String> md = Arrays.asList(Files.readString(tmp.resolve("report.md")).split("\n"));
        String above = row(md, cells.get(0).attack().id());
        String at = row(md, cells.get(1).attack().id());
        assertTrue(above.contains("21 of 1000 gradient rows were exactly zero"), above);
        assertFalse(at.contains("exactly zero"), at);
    }

    /** The report table's row of the cell with attack id {@code attack}. */
    private static String row(List<String> md, String attack) {
        List<String> rows = md.stream().filter(l -> l.startsWith("| bits:3 |") && l.contains("| " + attack + " |"))
                .toList();
        assertEquals(1, rows.size(), "one table row for " + attack + ": " + md);
        return rows.get(0);
    }
}
