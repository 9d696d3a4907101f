package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.LustraException;

/** The harness on the shipped classifier and images, with tiny budgets. */
class ExperimentRunnerTest {
    @TempDir
    Path tmp;

    static Experiment.AttackConfig attack(String name, String norm, Double eps, int steps) {
        return Experiment.AttackConfig.builder(name).optNorm(norm).optEps(eps == null ? null : List.of(eps))
                .optSteps(steps).optQueries(name.equals("square") || name.startsWith("autoattack") ? 8 : null).build();
    }

    /**
     * AdvP with one untargeted patch: the default best-of-ten targets trains ten universal patches per cell, most of
     * this class's time, and the resume and redo checks need only one.
     */
    static Experiment.AttackConfig untargetedAdvp(int steps) {
        return Experiment.AttackConfig.builder("advp").optSteps(steps).optTarget(-1).build();
    }

    static ExperimentRunner.Inputs inputs(NetClassifier c) {
        ImageSet train = Subsets.load("validation").subset(java.util.stream.IntStream.range(0, 200).toArray());
        return new ExperimentRunner.Inputs(c, Subsets.load("eval512"), train);
    }

    /** Records without the wall-clock field, for comparing two runs. */
    static List<String> records(Path dir) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve(RunDirectory.SAMPLES))) {
            SampleRecord r = RunDirectory.LINE.fromJson(line, SampleRecord.class);
            out.add(RunDirectory.LINE.toJson(new SampleRecord(r.seed(), r.cell(), r.chunk(), r.index(),
                    r.label(), r.cleanPrediction(), r.adversarialPrediction(), r.cleanCorrect(), r.robust(),
                    r.anyCopyFooled(), r.votes(), r.distLinf(), r.distL2(), r.psnr(), r.ssim(), r.patchArea(), 0,
                    r.forwardImagesPerImage())));
        }
        java.util.Collections.sort(out);
        return out;
    }

    @Test
    void givenAWorstOfRunBegunWithOtherRoutes_whenResumed_thenOneSentenceRefusesUntilTheCellIsRedone()
            throws Exception {
        Experiment exp = Experiment.builder("routes", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses("median:3").optModes("adaptive")
                .optAttacks(attack("pgd", "linf", 0.03, 1)).optBatch(2).optGradient("worst-of").build();
        String cell = exp.cells().get(0).id();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            Path run = tmp.resolve("run");
            ExperimentRunner first = new ExperimentRunner(exp, inputs(c), run, s -> { }).stopAfter(1);
            assertEquals(1, first.run(first.manifest("test", Map.of())));
            // given: the build that began the run had a third route on median (today's runs EXACT and BPDA)
            RunDirectory dir = new RunDirectory(run);
            Manifest began = dir.readManifest();
            assertEquals(List.of(cell + "@EXACT", cell + "@BPDA"), began.routeCells(cell));
            Map<String, CellInfo> cells = new LinkedHashMap<>(began.cells());
            cells.put(cell + "@STE", cells.get(cell + "@EXACT"));
            dir.writeManifest(began.withCells(cells, began.history()));

            // when resumed with today's build, then refused in one sentence naming the cell, both route lists, the fix
            ExperimentRunner again = new ExperimentRunner(exp, inputs(c), run, s -> { });
            LustraException e = assertThrows(LustraException.class, () -> again.run(again.manifest("test", Map.of())));
            assertTrue(e.getMessage().contains("cell " + cell + " began with the routes [" + cell + "@EXACT, " + cell
                    + "@BPDA, " + cell + "@STE] and this build runs [" + cell + "@EXACT, " + cell + "@BPDA]")
                    && e.getMessage().contains("--redo '" + cell + "'"), e.getMessage());

            // and after --redo of the cell the manifest lists today's routes and the run finishes
            again.redo(cell, "test");
            assertEquals(2, again.run(again.manifest("test", Map.of())));
            assertEquals(List.of(cell + "@EXACT", cell + "@BPDA"), dir.readManifest().routeCells(cell));
            assertEquals(4 * 3, records(run).size(), "4 images, each with its worst-of record and two route records");
        }
    }

    @Test
    void aRunStoppedHalfwayAndResumedGivesTheSameRecordsAndReport() throws Exception {
        Experiment exp = Experiment.builder("resume", "classifier-resnet").optSubset("eval512").optImages(8)
                .optProfile("quick").optSeeds(1L, 2L).optDefenses("none", "median:3").optModes("adaptive")
                .optAttacks(attack("pgd", "linf", 0.1, 3), attack("lavan", null, null, 3), untargetedAdvp(2))
                .optBatch(4).build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner whole = new ExperimentRunner(exp, inputs(c), tmp.resolve("whole"), s -> { });
            whole.run(whole.manifest("test", Map.of()));

            Path part = tmp.resolve("part");
            ExperimentRunner first = new ExperimentRunner(exp, inputs(c), part, s -> { }).stopAfter(6);
            assertEquals(6, first.run(first.manifest("test", Map.of())));
            // a kill in the middle of writing the sixth chunk: two of its four lines and a torn third one
            List<String> lines = Files.readAllLines(part.resolve(RunDirectory.SAMPLES));
            StringBuilder cut = new StringBuilder();
            for (int i = 0; i < lines.size() - 2; i++) {
                cut.append(lines.get(i)).append('\n');
            }
            cut.append(lines.get(lines.size() - 2), 0, 40);
            Files.writeString(part.resolve(RunDirectory.SAMPLES), cut.toString(), StandardCharsets.UTF_8);
            List<String> log = new ArrayList<>();
            ExperimentRunner again = new ExperimentRunner(exp, inputs(c), part, log::add);
            long computed = again.run(again.manifest("test", Map.of()));
            assertEquals(2 * 3 * 2 * 2 - 5, computed, "only the unfinished chunks are computed");
            assertTrue(log.stream().anyMatch(s -> s.startsWith("Dropping")), log.toString());
            // the manifest keeps the commit the run began at and says which code finished it
            List<String> history = new RunDirectory(part).readManifest().history();
            assertEquals(1, history.size(), history.toString());
            assertTrue(history.get(0).contains("at git commit test (build unknown): resumed, 19 chunk(s) pending"),
                    history.toString());
            assertEquals(records(tmp.resolve("whole")), records(part));

            Report.Summary a = Report.write(tmp.resolve("whole"));
            Report.Summary b = Report.write(part);
            for (int i = 0; i < a.cells().size(); i++) {
                assertEquals(a.cells().get(i).robustMean(), b.cells().get(i).robustMean());
            }
            assertTrue(Files.exists(part.resolve("report.md")) && Files.exists(part.resolve("report.csv")));

            // --redo: the AdvP cells are forgotten and recomputed (same seeds, same code → same records)
            List<String> redone = again.redo("advp", "commit-2");
            assertEquals(List.of("none|advp-0.050-s2-untargeted|none", "median:3|advp-0.050-s2-untargeted|adaptive"),
                    redone);
            assertTrue(records(part).stream().noneMatch(r -> r.contains("advp")), "AdvP records dropped");
            assertTrue(records(part).stream().anyMatch(r -> r.contains("lavan")), "other cells kept");
            assertEquals(2 * 2 * 2, again.run(again.manifest("test", Map.of())), "only the AdvP chunks run again");
            assertEquals(records(tmp.resolve("whole")), records(part));
            Report.write(part);
            assertTrue(Files.readString(part.resolve("report.md")).contains("commit-2: redid [none|advp"));
            assertThrows(LustraException.class, () -> again.redo("no-such-cell", "x"));

            // several patterns: refused whole when one matches nothing (nothing dropped), else one union, each cell once
            int before = records(part).size();
            assertThrows(LustraException.class, () -> again.redo(List.of("advp", "no-such-cell"), "x"));
            assertEquals(before, records(part).size(), "a refused redo drops nothing");
            List<String> union = again.redo(List.of("lavan", "advp", "advp-0.050"), "commit-3");
            assertEquals(exp.cells().stream().map(Experiment.Cell::id)
                    .filter(id -> id.contains("lavan") || id.contains("advp")).toList(), union);
            assertEquals(4, union.size(), "two attacks x two defences, the overlapping pattern adds nothing");
            assertTrue(records(part).stream().noneMatch(r -> r.contains("advp") || r.contains("lavan")));
            assertTrue(records(part).stream().anyMatch(r -> r.contains("pgd")), "the PGD cells kept");

            // an interrupted redo, rerun as the same command at the same clean commit, resumes: its new records are kept
            List<String> lavanAdvp = List.of("lavan", "advp");
            String commit = "3".repeat(40);
            ExperimentRunner halted = new ExperimentRunner(exp, inputs(c), part, s -> { }).stopAfter(2);
            halted.redo(lavanAdvp, commit);
            assertEquals(2, halted.run(halted.manifest(commit, Map.of())));
            List<String> made = records(part);
            assertEquals(union, halted.redo(lavanAdvp, commit));
            assertEquals(made, records(part), "the same redo at the same commit drops nothing");
            // widened at the same commit: only the cells not under way yet are dropped
            halted.redo(List.of("lavan", "advp", "pgd"), commit);
            assertEquals(made.stream().filter(r -> !r.contains("pgd")).toList(), records(part));
            // uncommitted code is not one state of the code: the redo starts over
            halted.redo(lavanAdvp, commit + "-dirty");
            assertTrue(records(part).stream().noneMatch(r -> r.contains("advp") || r.contains("lavan")));
            // a run of other code in between: the pending redo can no longer resume
            halted.redo(lavanAdvp, commit);
            assertEquals(2, halted.run(halted.manifest("4".repeat(40), Map.of())));
            halted.redo(lavanAdvp, commit);
            assertTrue(records(part).stream().noneMatch(r -> r.contains("advp") || r.contains("lavan")));
            assertTrue(Files.exists(part.resolve(RunDirectory.PENDING_REDO)));
            ExperimentRunner rest = new ExperimentRunner(exp, inputs(c), part, s -> { });
            rest.run(rest.manifest(commit, Map.of()));
            assertEquals(records(tmp.resolve("whole")), records(part));
            assertFalse(Files.exists(part.resolve(RunDirectory.PENDING_REDO)), "a finished run has no redo under way");
            // a finished redo asked again is a new redo, even at the same commit
            rest.redo("advp", commit);
            assertTrue(records(part).stream().noneMatch(r -> r.contains("advp")));

            Experiment other = Experiment.builder("resume", "classifier-resnet").optSubset("eval512").optImages(8)
                    .optProfile("paper").optSeeds(1L).optDefenses("none").optAttacks(attack("pgd", "linf", 0.1, 3))
                    .optBatch(4).build();
            ExperimentRunner wrong = new ExperimentRunner(other, inputs(c), part, s -> { });
            assertThrows(LustraException.class, () -> wrong.run(wrong.manifest("test", Map.of())));
        }
    }

    @Test
    void nonAdaptiveCellsShareOneUniversalPatchPerAttackAndAdaptiveOnesTrainTheirOwn() {
        Experiment.AttackSpec advp = new Experiment.AttackSpec("advp", null, 0, null, null, 0.05, null, null);
        String bare = UniversalPatches.owner(new Experiment.Cell("none", advp, "none"));
        assertEquals(bare, UniversalPatches.owner(new Experiment.Cell("jpeg:75", advp, "nonadaptive")));
        assertEquals(bare, UniversalPatches.owner(new Experiment.Cell("median:3", advp, "nonadaptive")));
        assertTrue(!bare.equals(UniversalPatches.owner(new Experiment.Cell("jpeg:75", advp, "adaptive"))));
    }

    @Test
    void configErrorsNameTheProblem() {
        LustraException e = assertThrows(LustraException.class, () -> Experiment.builder("x", null)
                .optDefenses("gauss:3").optAttacks(attack("pgd", "linf", 0.1, 1)).build());
        assertTrue(e.getMessage().contains("jpeg:Q"), e.getMessage());
        e = assertThrows(LustraException.class, () -> Experiment.builder("x", null)
                .optAttacks(attack("pdg", "linf", 0.1, 1)).build());
        assertTrue(e.getMessage().contains("pgd"), e.getMessage());
        e = assertThrows(LustraException.class, () -> Experiment.builder("x", null)
                .optAttacks(attack("pgd", null, null, 1)).build());
        assertTrue(e.getMessage().contains("\"eps\""), e.getMessage());
    }

    @Test
    void majorityVoteIsConservativeOnTies() {
        int[][] votes = {{3, 1}, {5, 1}};
        assertEquals(5, Scoring.majority(votes, 0, 3), "tie between the label and another: wrong");
        assertEquals(1, Scoring.majority(votes, 1, 1));
    }
}
