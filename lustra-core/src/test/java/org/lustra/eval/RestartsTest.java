package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.LustraException;

/** An attack's "restarts": adaptive cells run every route once per restart and keep each image's worst. */
class RestartsTest {
    @TempDir
    Path tmp;

    private static Experiment.AttackConfig lavan(Integer restarts) {
        return Experiment.AttackConfig.builder("lavan").optSteps(3).optFraction(0.05).optRestarts(restarts).build();
    }

    @Test
    void givenTwoRestarts_whenTheAttackIsNamed_thenItsIdSaysSoAndOneRestartKeepsTheOldId() {
        Experiment.AttackSpec twice = Experiment.builder("r", null).optImages(8).optAttacks(lavan(2)).build()
                .expandedAttacks().get(0);
        Experiment.AttackSpec once = Experiment.builder("r", null).optImages(8).optAttacks(lavan(1)).build()
                .expandedAttacks().get(0);

        assertEquals("lavan-0.050-s3-r2", twice.id());
        assertEquals("lavan-0.050-s3", once.id());
    }

    @Test
    void givenZeroRestarts_whenTheConfigIsRead_thenTheSentenceNamesTheSettingAndItsRange() {
        LustraException e = assertThrows(LustraException.class, () -> Experiment.builder("r", null).optImages(8)
                .optAttacks(lavan(0)).build());

        assertTrue(e.getMessage().contains("\"restarts\" of lavan must be ≥ 1"), e.getMessage());
    }

    @Test
    void givenTwoRestartsOnAWorstOfCell_whenRun_thenEachRouteRunsTwiceFromItsOwnSeedAndTheWorstIsKeptPerImage()
            throws Exception {
        Experiment exp = Experiment.builder("restarts", "classifier-resnet").optSubset("eval512").optImages(8)
                .optProfile("quick").optSeeds(1L).optDefenses("median:3").optModes("nonadaptive", "adaptive")
                .optAttacks(lavan(2)).optBatch(8).optGradient("worst-of").build();
        Manifest manifest;
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { });
            manifest = r.manifest("test", Map.of());
            r.run(manifest);
        }
        String adaptive = "median:3|lavan-0.050-s3-r2|adaptive";
        // restart-major: the first block is the attack's first run, then every route again
        assertEquals(List.of("median:3|lavan-0.050-s3-r2|nonadaptive", adaptive, adaptive + "@EXACT",
                adaptive + "@BPDA", adaptive + "@EXACT-r2", adaptive + "@BPDA-r2"), List.copyOf(manifest.cells()
                        .keySet()));
        assertTrue(manifest.cells().get(adaptive + "@BPDA-r2").gradientMode().endsWith("restart 2 (fresh attack "
                + "seed)"), manifest.cells().get(adaptive + "@BPDA-r2").gradientMode());

        Map<String, List<SampleRecord>> byCell = Files.readAllLines(tmp.resolve(RunDirectory.SAMPLES)).stream()
                .map(l -> RunDirectory.LINE.fromJson(l, SampleRecord.class))
                .collect(Collectors.groupingBy(SampleRecord::cell));
        assertEquals(8, byCell.get("median:3|lavan-0.050-s3-r2|nonadaptive").size(), "the non-adaptive cell runs once");
        // a restart draws its own patch places: its patched images differ from the first run's
        assertNotEquals(distances(byCell.get(adaptive + "@BPDA")), distances(byCell.get(adaptive + "@BPDA-r2")));
        // a deterministic defence: an image is robust in the worst-of cell only if every route and restart left it so
        for (SampleRecord w : byCell.get(adaptive)) {
            boolean allRobust = byCell.entrySet().stream().filter(e -> e.getKey().startsWith(adaptive + "@"))
                    .allMatch(e -> e.getValue().stream().filter(x -> x.index() == w.index()).findFirst()
                            .orElseThrow().robust());
            assertEquals(allRobust, w.robust(), "image " + w.index());
        }
    }

    @Test
    void givenPatchesOfEveryRouteAndRestart_whenTheCellIsForgotten_thenAllOfItsPatchesGoAndNoOtherCellLosesOne()
            throws Exception {
        RunDirectory dir = new RunDirectory(tmp);
        String cell = "median:3|advp-0.050-r2|adaptive";
        String other = "median:3|advp-0.050|adaptive";
        for (String owner : List.of(cell + "@EXACT", cell + "@BPDA-r2", other + "@EXACT")) {
            Files.createDirectories(dir.patchFile(owner, 1).getParent());
            Files.writeString(dir.patchFile(owner, 1), "[0.5]");
        }

        dir.forgetCellFiles(cell, "none|advp-0.050-r2|none", false);

        assertEquals(List.of(tmp.resolve("patches").relativize(dir.patchFile(other + "@EXACT", 1)).toString()),
                Files.list(tmp.resolve("patches")).map(f -> f.getFileName().toString()).toList(),
                "a restart's patch would be reused by the redo");
    }

    private static List<Double> distances(List<SampleRecord> records) {
        return records.stream().sorted((a, b) -> Integer.compare(a.index(), b.index())).map(SampleRecord::distL2)
                .toList();
    }
}
