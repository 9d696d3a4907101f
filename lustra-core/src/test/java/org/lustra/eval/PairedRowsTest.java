package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;

/** {@code "paired": true}: the rows of an attack share their draws, and the report compares them image by image. */
class PairedRowsTest {
    @TempDir
    Path tmp;

    private static Experiment experiment(Boolean paired) {
        return Experiment.builder("paired", "classifier-resnet").optSubset("eval512").optImages(8)
                .optProfile("quick").optSeeds(1L).optDefenses("none", "median:3", "jpeg:75").optModes("nonadaptive")
                .optAttacks(Experiment.AttackConfig.builder("lavan").optSteps(3).optFraction(0.05).build()).optBatch(8)
                .optPaired(paired).build();
    }

    @Test
    void givenPairedRows_whenTheChunkSeedsAreDerived_thenTwoDefencesOfOneAttackDrawAlikeAndUnpairedOnesDoNot() {
        List<Experiment.Cell> cells = experiment(true).cells();
        Experiment.Cell median = cells.get(1);
        Experiment.Cell jpeg = cells.get(2);

        assertEquals(RunSeeds.ChunkSeeds.of(1, median, 0, true).attack(),
                RunSeeds.ChunkSeeds.of(1, jpeg, 0, true).attack());
        assertEquals(RunSeeds.ChunkSeeds.of(1, median, 0, true).judge(),
                RunSeeds.ChunkSeeds.of(1, jpeg, 0, true).judge());
        assertNotEquals(RunSeeds.ChunkSeeds.of(1, median, 0, false).attack(),
                RunSeeds.ChunkSeeds.of(1, jpeg, 0, false).attack());
        // the clean votes stay the defence's own either way
        assertNotEquals(RunSeeds.ChunkSeeds.of(1, median, 0, true).clean(),
                RunSeeds.ChunkSeeds.of(1, jpeg, 0, true).clean());
    }

    @Test
    void givenAPairedRun_whenItRuns_thenEveryRowSeesTheSamePatchedImagesAndTheReportComparesThePairs()
            throws Exception {
        Manifest manifest;
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(experiment(true), ExperimentRunnerTest.inputs(c), tmp, s -> { });
            manifest = r.manifest("test", Map.of());
            r.run(manifest);
        }
        Map<String, List<SampleRecord>> byCell = new RunDirectory(tmp).readRecords().stream()
                .collect(Collectors.groupingBy(SampleRecord::cell));

        // non-adaptive LaVAN attacks the classifier alone: with shared draws its patched images are the same per row
        assertEquals(distances(byCell.get("none|lavan-0.050-s3|none")),
                distances(byCell.get("median:3|lavan-0.050-s3|nonadaptive")));
        assertEquals(distances(byCell.get("none|lavan-0.050-s3|none")),
                distances(byCell.get("jpeg:75|lavan-0.050-s3|nonadaptive")));
        assertTrue(manifest.seeds().endsWith(RunSeeds.PAIRED), manifest.seeds());
        Report.write(tmp);
        String md = Files.readString(tmp.resolve("report.md"));
        assertTrue(md.contains("## Paired rows"), md);
        assertTrue(md.contains("| lavan-0.050-s3 non-adaptive | `median:3` | `jpeg:75` | 8 |"), md);
    }

    @Test
    void givenAnUnpairedRun_whenItRuns_thenTheRowsDrawTheirOwnPatchesAndTheReportHasNoPairedSection()
            throws Exception {
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(experiment(null), ExperimentRunnerTest.inputs(c), tmp, s -> { });
            Manifest manifest = r.manifest("test", Map.of());
            assertEquals(RunSeeds.DERIVATION, manifest.seeds());
            r.run(manifest);
        }
        Map<String, List<SampleRecord>> byCell = new RunDirectory(tmp).readRecords().stream()
                .collect(Collectors.groupingBy(SampleRecord::cell));

        assertNotEquals(distances(byCell.get("none|lavan-0.050-s3|none")),
                distances(byCell.get("median:3|lavan-0.050-s3|nonadaptive")));
        Report.write(tmp);
        assertFalse(Files.readString(tmp.resolve("report.md")).contains("## Paired rows"));
    }

    @Test
    void givenHandMadeRecords_whenPaired_thenTheCountsFollowEachImageAndRouteCellsAndLoneRowsAreLeftOut() {
        Map<String, CellInfo> cells = new LinkedHashMap<>();
        cells.put("none|a|none", new CellInfo("none", "a", "none", "", "", ""));
        cells.put("d1|a|nonadaptive", new CellInfo("d1", "a", "nonadaptive", "", "", ""));
        cells.put("d1|a|adaptive", new CellInfo("d1", "a", "adaptive", "", "", ""));
        cells.put("d1|a|adaptive@STE", new CellInfo("d1", "a", "adaptive@STE", "", "", ""));
        Manifest manifest = new Manifest(experiment(true), "now", "test", Map.of(), cells, 4, "c", List.of());
        List<SampleRecord> records = new ArrayList<>();
        boolean[] undefended = {true, true, false, false};
        boolean[] defended = {true, false, true, true};
        for (int i = 0; i < 4; i++) {
            records.add(record("none|a|none", i, undefended[i]));
            records.add(record("d1|a|nonadaptive", i, defended[i]));
            records.add(record("d1|a|adaptive", i, false));
            records.add(record("d1|a|adaptive@STE", i, true));
        }

        List<PairedRows.Pair> pairs = PairedRows.of(manifest, records);

        // the adaptive row has no partner (its route cell is not a row)
        assertEquals(List.of(new PairedRows.Pair("a non-adaptive", "none", "d1", 4, 1, 1, 2, 0)), pairs);
        assertEquals(25.0, pairs.get(0).differencePoints(), 1e-12);
    }

    @Test
    void givenAConfigThatSpellsOutFalse_whenRead_thenItIsTheSameExperimentAsOneWithoutTheFields() {
        Experiment spelledOut = Experiment.builder("paired", "classifier-resnet").optSubset("eval512").optImages(8)
                .optProfile("quick").optSeeds(1L).optDefenses("none").optModes("nonadaptive")
                .optAttacks(Experiment.AttackConfig.builder("lavan").optSteps(3).optFraction(0.05).build()).optBatch(8)
                .optPaired(false).optFullLength(false).build();

        // a resume compares the config with the manifest's: "false" must not make it a different experiment
        assertEquals(experiment(null), Experiment.builder("paired", "classifier-resnet").optSubset("eval512")
                .optImages(8).optProfile("quick").optSeeds(1L).optDefenses("none", "median:3", "jpeg:75")
                .optModes("nonadaptive")
                .optAttacks(Experiment.AttackConfig.builder("lavan").optSteps(3).optFraction(0.05).build()).optBatch(8)
                .optPaired(false).optFullLength(false).build());
        assertEquals(null, spelledOut.paired());
        assertEquals(null, spelledOut.fullLength());
    }

    @Test
    void givenDiscordantCounts_whenTested_thenMcNemarsExactPIsTheTwoSidedBinomialTail() {
        assertEquals(1.0, PairedRows.exactTwoSided(0, 0), 0);
        assertEquals(2.0 / 32, PairedRows.exactTwoSided(0, 5), 1e-12);
        assertEquals(2.0 / 32, PairedRows.exactTwoSided(5, 5), 1e-12);
        assertEquals(2.0 * 11 / 1024, PairedRows.exactTwoSided(1, 10), 1e-12);
        assertEquals(1.0, PairedRows.exactTwoSided(2, 4), 0);
    }

    private static SampleRecord record(String cell, int index, boolean robust) {
        return new SampleRecord(1, cell, 0, index, 0, 0, robust ? 0 : 1, true, robust, null, 1, 0, 0, 0, 0, null, 0,
                0);
    }

    private static List<Double> distances(List<SampleRecord> records) {
        return records.stream().sorted((a, b) -> Integer.compare(a.index(), b.index())).map(SampleRecord::distL2)
                .toList();
    }
}
