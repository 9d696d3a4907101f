package org.lustra.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.data.Subsets;
import org.lustra.eval.Experiment;
import org.lustra.eval.ExperimentRunner;
import org.lustra.eval.Report;
import org.lustra.eval.RunDirectory;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.Json;

/**
 * One quick experiment computed by the local engine and by Spark with {@code local[2]} (one engine thread per task):
 * the same per-sample records and the same report. The Spark run then resumes a journal cut by a kill.
 */
class SparkChunkEngineTest {
    @TempDir
    static Path tmp;

    static final Experiment EXPERIMENT = Experiment.builder("engines", "classifier-resnet").optSubset("eval512")
            .optImages(8).optProfile("quick").optSeeds(1L).optDefenses("none", "jpeg:75")
            .optModes("nonadaptive", "adaptive")
            .optAttacks(Experiment.AttackConfig.builder("pgd").optNorm("linf").optEps(0.1).optSteps(2).build(),
                    Experiment.AttackConfig.builder("lavan").optSteps(2).build())
            .optBatch(4).build();
    /** 6 cells (none: 2 attacks; jpeg:75: 2 attacks × 2 modes) × 2 chunks of 4 images. */
    static final int CHUNKS = 12;

    static long sparkChunks;

    @BeforeAll
    static void runBothEngines() {
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            try (ExperimentRunner local = runner(c, "local")) {
                local.run(local.manifest("test", Map.of()));
            }
            try (ExperimentRunner spark = runner(c, "spark")) {
                sparkChunks = spark.run(spark.manifest("test", Map.of()), new SparkChunkEngine("local[2]", 1));
            }
        }
    }

    /** The inputs `lustra eval run` uses, which are also what the executors load. */
    static ExperimentRunner runner(NetClassifier c, String dir) {
        return new ExperimentRunner(EXPERIMENT, new ExperimentRunner.Inputs(c, Subsets.load("eval512"),
                Subsets.load("validation")), tmp.resolve(dir), s -> { });
    }

    /** The journal's lines without the wall-clock field, sorted (as {@code Reproduction} compares records). */
    static List<String> records(Path dir) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve(RunDirectory.SAMPLES), StandardCharsets.UTF_8)) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            o.remove("msPerImage");
            out.add(o.toString());
        }
        Collections.sort(out);
        return out;
    }

    /** The report's numbers: every cell and check, wall-clock time and creation date left out. */
    static JsonObject reportNumbers(Path dir) {
        JsonObject o = Json.GSON.toJsonTree(Report.write(dir)).getAsJsonObject();
        o.remove("created");
        for (JsonElement cell : o.getAsJsonArray("cells")) {
            cell.getAsJsonObject().remove("msPerImage");
        }
        return o;
    }

    @Test
    void givenAQuickExperiment_whenSparkComputesItOnLocal2_thenEveryChunkIsComputedOnce() throws Exception {
        assertEquals(CHUNKS, sparkChunks);
        assertEquals(CHUNKS * 4, Files.readAllLines(tmp.resolve("spark").resolve(RunDirectory.SAMPLES)).size());
    }

    @Test
    void givenAQuickExperiment_whenRunLocallyAndOnSpark_thenThePerSampleRecordsAreIdentical() throws Exception {
        List<String> local = records(tmp.resolve("local"));

        assertEquals(CHUNKS * 4, local.size());
        assertEquals(local, records(tmp.resolve("spark")));
    }

    @Test
    void givenAQuickExperiment_whenRunLocallyAndOnSpark_thenTheReportsAreIdentical() {
        JsonObject local = reportNumbers(tmp.resolve("local"));

        assertFalse(local.getAsJsonArray("cells").isEmpty());
        assertEquals(local, reportNumbers(tmp.resolve("spark")));
    }

    @Test
    void givenASparkJournalCutByAKill_whenResumedOnSpark_thenOnlyTheCutChunkIsComputedAndTheRecordsMatch()
            throws Exception {
        Path dir = tmp.resolve("resumed");
        Files.createDirectories(dir);
        Files.copy(tmp.resolve("spark").resolve(RunDirectory.MANIFEST), dir.resolve(RunDirectory.MANIFEST));
        List<String> lines = Files.readAllLines(tmp.resolve("spark").resolve(RunDirectory.SAMPLES));
        // the last chunk's four lines: two reached the disk, the third is torn
        StringBuilder cut = new StringBuilder();
        lines.subList(0, lines.size() - 2).forEach(l -> cut.append(l).append('\n'));
        cut.append(lines.get(lines.size() - 2), 0, 40);
        Files.writeString(dir.resolve(RunDirectory.SAMPLES), cut.toString(), StandardCharsets.UTF_8);

        long computed;
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                ExperimentRunner again = runner(c, "resumed")) {
            computed = again.run(again.manifest("test", Map.of()), new SparkChunkEngine("local[2]", 1));
        }

        assertEquals(1, computed);
        assertEquals(records(tmp.resolve("local")), records(dir));
    }

    @Test
    void givenNoMasterOrNoThreads_whenTheEngineIsMade_thenItSaysWhatIsAllowed() {
        assertThrows(IllegalArgumentException.class, () -> new SparkChunkEngine(" ", 1));
        assertThrows(IllegalArgumentException.class, () -> new SparkChunkEngine("local[2]", 0));
    }
}
