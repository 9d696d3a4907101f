package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.attack.AttackModel;
import org.lustra.attack.GradientCounts;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;

/**
 * A worst-of cell's chunk runs its routes one after the other; a stop between them keeps the finished routes, so the
 * rerun attacks only what was left and writes the records an uninterrupted run writes.
 */
class RouteCheckpointsTest {
    @TempDir
    Path tmp;

    private static final String CELL = "median:3|pgd-linf-0.1000|adaptive";

    @Test
    void givenARunStoppedAfterTheFirstRouteOfAChunk_whenRerun_thenOnlyTheOtherRouteIsAttackedAndTheRecordsAreUnchanged()
            throws Exception {
        Experiment exp = experiment();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            // the reference: the same run, never stopped (two chunks, routes EXACT and BPDA: four attacks)
            CountingAttack all = new CountingAttack(Integer.MAX_VALUE);
            ExperimentRunner whole = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp.resolve("whole"),
                    s -> { }).withAttack("pgd", all);
            whole.run(whole.manifest("test", Map.of()));
            assertEquals(4, all.runs.get());

            // given a run that dies in the second chunk's second route (as a kill would)
            Path part = tmp.resolve("part");
            ExperimentRunner first = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), part, s -> { })
                    .withAttack("pgd", new CountingAttack(4));
            assertThrows(RuntimeException.class, () -> first.run(first.manifest("test", Map.of())));
            // then the finished route of the unfinished chunk is kept, and the journaled chunk's routes are not
            try (var files = Files.list(part.resolve(RouteCheckpoints.FOLDER))) {
                assertEquals(List.of("EXACT-seed1-chunk1.bin"), files.map(f -> f.getFileName().toString())
                        .map(f -> f.substring(f.indexOf("__route-") + "__route-".length())).toList());
            }

            // (and a kill left a temporary file and a journaled chunk's route behind)
            Path folder = part.resolve(RouteCheckpoints.FOLDER);
            Files.writeString(folder.resolve(".x.bin.1a2b.tmp"), "torn");
            try (var files = Files.list(folder)) {
                Path kept = files.filter(f -> f.toString().endsWith(".bin")).findFirst().orElseThrow();
                Files.copy(kept, folder.resolve(kept.getFileName().toString().replace("chunk1", "chunk0")));
            }

            // when it is run again
            CountingAttack rest = new CountingAttack(Integer.MAX_VALUE);
            List<String> log = new ArrayList<>();
            ExperimentRunner again = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), part, log::add)
                    .withAttack("pgd", rest);
            again.run(again.manifest("test", Map.of()));

            // then only the unfinished route was attacked, the log says why, and nothing is left behind
            assertEquals(1, rest.runs.get());
            assertTrue(log.stream().anyMatch(s -> s.contains("route EXACT finished before the last stop")),
                    log.toString());
            assertFalse(Files.exists(part.resolve(RouteCheckpoints.FOLDER)));
            // and the records are those of the uninterrupted run, every field but the wall clock's
            assertEquals(records(tmp.resolve("whole")), records(part));
            // (the two routes made different images, so one route's images taken for the other would have shown)
            assertNotEquals(distances(tmp.resolve("whole"), "@EXACT"), distances(tmp.resolve("whole"), "@BPDA"));
        }
    }

    @Test
    void givenSkipFooledAndARunKilledInItsLastAttack_whenRerun_thenSavedSubChunkRoutesAreTakenAndRecordsUnchanged()
            throws Exception {
        // two restarts: routes EXACT, BPDA, EXACT-r2, BPDA-r2, so sub-chunk routes finish before the one that dies
        Experiment.AttackConfig pgd = Experiment.AttackConfig.builder("pgd").optNorm("linf").optEps(0.1).optSteps(1)
                .optRestarts(2).build();
        Experiment exp = Experiment.builder("partial", "classifier-resnet").optSubset("eval512").optImages(8)
                .optProfile("quick").optSeeds(1L).optDefenses("median:3").optModes("adaptive").optAttacks(pgd)
                .optBatch(4).optGradient("worst-of").optSkipFooled(true).build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            CountingAttack all = new CountingAttack(Integer.MAX_VALUE);
            List<String> wholeLog = new ArrayList<>();
            ExperimentRunner whole = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp.resolve("whole"),
                    wholeLog::add).withAttack("pgd", all);
            whole.run(whole.manifest("test", Map.of()));
            // the second chunk's BPDA attacked part of it, and something was left for the last route to attack
            assertTrue(wholeLog.stream().anyMatch(s -> s.matches("Chunk 1 of .*: route BPDA attacks [123] of 4 .*")),
                    wholeLog.toString());
            assertTrue(wholeLog.stream().anyMatch(s -> s.matches("Chunk 1 of .*: route BPDA-r2 attacks [123] of 4 .*")),
                    wholeLog.toString());

            // given a run that dies in its last attack (the second chunk's BPDA-r2, on a sub-chunk)
            Path part = tmp.resolve("part");
            ExperimentRunner first = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), part, s -> { })
                    .withAttack("pgd", new CountingAttack(all.runs.get()));
            assertThrows(RuntimeException.class, () -> first.run(first.manifest("test", Map.of())));
            try (var files = Files.list(part.resolve(RouteCheckpoints.FOLDER))) {
                assertTrue(files.anyMatch(f -> f.getFileName().toString().contains("BPDA-rows")),
                        "a finished sub-chunk route is saved under its rows");
            }

            // when it is run again
            CountingAttack rest = new CountingAttack(Integer.MAX_VALUE);
            List<String> log = new ArrayList<>();
            ExperimentRunner again = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), part, log::add)
                    .withAttack("pgd", rest);
            again.run(again.manifest("test", Map.of()));

            // then the saved sub-chunk routes were taken (the same images skipped again), only the dead attack ran,
            // and the records are those of the uninterrupted run
            assertTrue(log.stream().anyMatch(s -> s.contains("route BPDA finished before the last stop")),
                    log.toString());
            assertEquals(1, rest.runs.get());
            assertEquals(records(tmp.resolve("whole")), records(part));
        }
    }

    @Test
    void givenARunStoppedMidChunk_whenTheCellIsRedone_thenItsSavedRoutesAreForgotten() throws Exception {
        Experiment exp = experiment();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner first = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })
                    .withAttack("pgd", new CountingAttack(4));
            assertThrows(RuntimeException.class, () -> first.run(first.manifest("test", Map.of())));
            assertTrue(Files.isDirectory(tmp.resolve(RouteCheckpoints.FOLDER)));

            new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { }).redo("pgd", "commit-2");

            assertFalse(Files.exists(tmp.resolve(RouteCheckpoints.FOLDER)), "a route of the old code would be reused");
        }
    }

    @Test
    void givenASavedRouteOfAnotherChunkSize_whenLoaded_thenItIsIgnoredWithASentence() {
        List<String> log = new ArrayList<>();
        RouteCheckpoints checkpoints = new RouteCheckpoints(new RunDirectory(tmp), "inputs-a", log::add);
        checkpoints.save(1, CELL, 0, "BPDA", 2, new org.lustra.attack.Attack.Outcome(new float[8], null, 2,
                new GradientCounts(2, 0, 1), List.of()), 12.5);

        // the same chunk read back as it was written
        RouteCheckpoints.Saved back = checkpoints.load(1, CELL, 0, "BPDA", 2, 8, 8).orElseThrow();
        assertEquals(new GradientCounts(2, 0, 1), back.outcome().gradients());
        assertEquals(12.5, back.msPerImage());
        // a chunk of another size does not take it
        assertTrue(checkpoints.load(1, CELL, 0, "BPDA", 3, 12, 12).isEmpty());
        assertTrue(log.get(0).contains("the route is attacked again"), log.toString());
        // a run on other inputs (retrained weights) does not take it
        assertTrue(new RouteCheckpoints(new RunDirectory(tmp), "inputs-b", log::add).load(1, CELL, 0, "BPDA", 2, 8, 8)
                .isEmpty());
        // a redo of the cell forgets it
        checkpoints.clearCell(CELL);
        assertTrue(checkpoints.load(1, CELL, 0, "BPDA", 2, 8, 8).isEmpty());
    }

    private static Experiment experiment() {
        return Experiment.builder("partial", "classifier-resnet").optSubset("eval512").optImages(4).optProfile("quick")
                .optSeeds(1L).optDefenses("median:3").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, 1)).optBatch(2).optGradient("worst-of")
                .build();
    }

    /** Every record of a run as JSON without its wall-clock field, sorted. */
    private static List<String> records(Path dir) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve(RunDirectory.SAMPLES))) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            o.remove("msPerImage");
            out.add(o.toString());
        }
        java.util.Collections.sort(out);
        return out;
    }

    /** The ℓ2 distance of each image's final input in the route cells whose id contains {@code route}. */
    private static Map<Integer, Double> distances(Path dir, String route) throws Exception {
        Map<Integer, Double> out = new java.util.TreeMap<>();
        for (SampleRecord r : new RunDirectory(dir).readRecords()) {
            if (r.cell().contains(route)) {
                out.put(r.index(), r.distL2());
            }
        }
        return out;
    }

    /**
     * One signed-gradient step of 0.1 through the route's model (EXACT and BPDA through the median filter give different
     * images); counts its runs and dies at run {@code dieAt}.
     */
    static final class CountingAttack extends StubLpAttack {
        final AtomicInteger runs = new AtomicInteger();
        private final int dieAt;

        CountingAttack(int dieAt) {
            super("one signed-gradient step (a counting stub)");
            this.dieAt = dieAt;
        }

        @Override
        public boolean blackBox() {
            return false; // a gradient attack: a worst-of cell runs it once per gradient route
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            if (runs.incrementAndGet() == dieAt) {
                throw new IllegalStateException("killed");
            }
            float[] g = model.evaluate(x, labels.length, AttackModel.Loss.CE, labels, null).gradient();
            float[] adv = x.clone();
            for (int j = 0; j < adv.length; j++) {
                adv[j] = Math.max(0f, Math.min(1f, x[j] + 0.1f * Math.signum(g[j])));
            }
            return new Outcome(adv, null, labels.length, GradientCounts.of(model), List.of());
        }
    }
}
