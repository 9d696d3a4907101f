package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void givenSkipFooled_whenAWorstOfCellRuns_thenTheLaterRouteAttacksOnlyTheSurvivorsAndCarriesTheRest()
            throws Exception {
        Experiment exp = Experiment.builder("skip", "classifier-resnet").optSubset("eval512").optImages(16)
                .optProfile("quick").optSeeds(1L).optDefenses("median:3").optModes("adaptive")
                .optAttacks(lavan()).optBatch(16).optGradient("worst-of").optSkipFooled(true).build();
        Manifest manifest;
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { });
            manifest = r.manifest("test", Map.of());
            r.run(manifest);
        }
        String cell = "median:3|lavan-0.120-s10|adaptive";
        assertEquals(List.of(cell, cell + "@EXACT", cell + "@BPDA"), List.copyOf(manifest.cells().keySet()));
        assertTrue(manifest.cells().get(cell + "@BPDA").gradientMode().contains("worst of the routes so far"));
        assertFalse(manifest.cells().get(cell + "@EXACT").gradientMode().contains("routes so far"));
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
    }
}
