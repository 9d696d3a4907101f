package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.LustraException;

/** "skipFooled": a worst-of cell's later routes attack only the images earlier routes have not fooled on every vote. */
class SkipFooledTest {
    @TempDir
    Path tmp;

    private static Experiment.AttackConfig lavan() {
        return Experiment.AttackConfig.builder("lavan").optSteps(10).optFraction(0.12).build();
    }

    @Test
    void givenSkipFooledWithoutWorstOf_whenTheConfigIsRead_thenTheSentenceNamesBothSettings() {
        LustraException e = assertThrows(LustraException.class, () -> Experiment.builder("s", null).optImages(8)
                .optAttacks(lavan()).optGradient("exact").optSkipFooled(true).build());

        assertTrue(e.getMessage().contains("\"skipFooled\"") && e.getMessage().contains("worst-of"), e.getMessage());
    }

    @Test
    void givenADeterministicAttack_whenRunWithAndWithoutSkipFooled_thenAttackedImagesAndTheWorstOfCellAgree()
            throws Exception {
        // one signed-gradient step, no randomness: an image's outcome does not depend on the chunk it is attacked in
        Map<String, Map<Integer, JsonObject>> skipped;
        Map<String, Map<Integer, JsonObject>> full;
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            skipped = run(c, true);
            full = run(c, false);
        }
        String cell = "median:3|pgd-linf-0.1000-s1|adaptive";
        Map<Integer, JsonObject> bpda = skipped.get(cell + "@BPDA");
        long attacked = bpda.values().stream().filter(r -> !r.has("route")).count();
        assertTrue(attacked > 0 && attacked < 8, "the test needs both kinds of image, got " + attacked + " attacked");
        for (int i = 0; i < 8; i++) {
            JsonObject b = bpda.get(i);
            if (b.has("route")) {
                // skipped: carries the first route's record (its image, votes and fidelity)
                JsonObject e = skipped.get(cell + "@EXACT").get(i);
                b.remove("route");
                b.addProperty("cell", e.get("cell").getAsString());
                assertEquals(e, b, "image " + i);
            } else {
                assertEquals(full.get(cell + "@BPDA").get(i), b, "image " + i + " was attacked as in a full run");
            }
            assertEquals(full.get(cell).get(i), skipped.get(cell).get(i), "worst-of record of image " + i);
        }
    }

    /** The run's records by cell and image, without the fields that count the run's work. */
    private Map<String, Map<Integer, JsonObject>> run(NetClassifier c, boolean skip) throws Exception {
        Experiment exp = Experiment.builder("skip", "classifier-resnet").optSubset("eval512").optImages(8)
                .optProfile("quick").optSeeds(1L).optDefenses("median:3").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, 1)).optBatch(8).optGradient("worst-of")
                .optSkipFooled(skip).build();
        Path dir = tmp.resolve(skip ? "skip" : "full");
        ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), dir, s -> { })
                .withAttack("pgd", new RouteCheckpointsTest.CountingAttack(Integer.MAX_VALUE));
        r.run(r.manifest("test", Map.of()));
        Map<String, Map<Integer, JsonObject>> out = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(dir.resolve(RunDirectory.SAMPLES))) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            for (String counter : List.of("msPerImage", "forwardImagesPerImage", "chunkGradientRows",
                    "chunkNonFiniteGradients", "chunkZeroGradients")) {
                o.remove(counter);
            }
            out.computeIfAbsent(o.get("cell").getAsString(), k -> new java.util.TreeMap<>())
                    .put(o.get("index").getAsInt(), o);
        }
        return out;
    }

    @Test
    void givenSkipFooled_whenAWorstOfCellRuns_thenTheLaterRouteAttacksOnlyTheSurvivorsAndCarriesTheRest()
            throws Exception {
        Experiment exp = Experiment.builder("skip", "classifier-resnet").optSubset("eval512").optImages(16)
                .optProfile("quick").optSeeds(1L).optDefenses("median:3").optModes("adaptive")
                .optAttacks(lavan()).optBatch(16).optGradient("worst-of").optSkipFooled(true).build();
        Manifest manifest;
        List<String> log = new java.util.ArrayList<>();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, log::add);
            manifest = r.manifest("test", Map.of());
            r.run(manifest);
        }
        String cell = "median:3|lavan-0.120-s10|adaptive";
        assertEquals(List.of(cell, cell + "@EXACT", cell + "@BPDA"), List.copyOf(manifest.cells().keySet()));
        assertTrue(manifest.cells().get(cell + "@BPDA").gradientMode().contains("counted as fooled"));
        assertFalse(manifest.cells().get(cell + "@EXACT").gradientMode().contains("counted as fooled"));
        assertTrue(manifest.cells().get(cell).gradientMode().contains("\"skipFooled\""));

        Map<String, Map<Integer, SampleRecord>> byCell = Files.readAllLines(tmp.resolve(RunDirectory.SAMPLES))
                .stream().map(l -> RunDirectory.LINE.fromJson(l, SampleRecord.class))
                .collect(Collectors.groupingBy(SampleRecord::cell, Collectors.toMap(SampleRecord::index,
                        Function.identity())));
        Map<Integer, SampleRecord> first = byCell.get(cell + "@EXACT");
        Map<Integer, SampleRecord> second = byCell.get(cell + "@BPDA");
        Map<Integer, SampleRecord> worst = byCell.get(cell);
        assertEquals(16, first.size());
        assertEquals(16, second.size(), "a route cell keeps one record per image, carried or attacked");
        long fooledFirst = first.values().stream().filter(x -> !x.robust()).count();
        assertTrue(fooledFirst > 0 && fooledFirst < 16, "the test needs both kinds of image, got " + fooledFirst
                + " fooled of 16");
        for (int i = 0; i < 16; i++) {
            SampleRecord a = first.get(i);
            SampleRecord b = second.get(i);
            assertNull(a.route(), "the first route attacks every image");
            if (a.robust()) {
                assertNull(b.route(), "image " + i + " survived the first route, so the second attacked it");
            } else {
                // one vote (a deterministic defence): fooled means fooled on every vote, so it was skipped
                assertEquals("EXACT", b.route(), "image " + i);
                assertEquals(a.distL2(), b.distL2(), 0.0, "image " + i + " carries the first route's image");
                assertFalse(b.robust());
            }
            assertEquals(a.robust() && b.robust(), worst.get(i).robust(), "image " + i);
        }
        // each route's end is logged with what the worst case stands at (one vote: fooled = fooled on every vote)
        long fooledWorst = worst.values().stream().filter(x -> !x.robust()).count();
        assertTrue(log.stream().anyMatch(l -> l.startsWith("Chunk 0 of " + cell + ": route EXACT (1 of 2) done in ")
                && l.endsWith("; " + fooledFirst + " of 16 images fooled on every vote so far")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("Chunk 0 of " + cell + ": route BPDA (2 of 2) done in ")
                && l.endsWith("; " + fooledWorst + " of 16 images fooled on every vote so far")), log.toString());
    }
}
