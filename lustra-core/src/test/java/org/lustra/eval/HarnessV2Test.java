package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Purifier;
import org.lustra.defense.classic.MedianSmoothing;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.Files2;
import org.lustra.util.LustraHome;

/** Harness v2's protocol, on the shipped classifier with synthetic purifiers whose behaviour is known. */
class HarnessV2Test {
    @TempDir
    Path tmp;

    /** Identity in the forward pass; its exact gradient is NaN everywhere: x + sqrt(x − x), d/dx = 0/0. */
    static final class NanGradientPurifier implements Purifier {
        @Override
        public String name() {
            return "nan-gradient";
        }

        @Override
        public Set<GradientMode> gradientModes() {
            return Set.of(GradientMode.EXACT, GradientMode.BPDA); // BPDA: the harness's forward-only evaluations
        }

        @Override
        public boolean randomized() {
            return false;
        }

        @Override
        public NDArray purify(NDArray x, long seed) {
            return x.add(x.sub(x).sqrt());
        }
    }

    /** Adds seeded Gaussian noise (σ 0.1) and clips: randomised, with an exact gradient. */
    static final class NoisePurifier implements Purifier {
        @Override
        public String name() {
            return "noise";
        }

        @Override
        public Set<GradientMode> gradientModes() {
            return Set.of(GradientMode.EXACT, GradientMode.BPDA);
        }

        @Override
        public boolean randomized() {
            return true;
        }

        @Override
        public NDArray purify(NDArray x, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            float[] z = new float[Math.toIntExact(x.size())];
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) (0.1 * r.nextGaussian());
            }
            NDManager m = x.getManager();
            return x.add(m.create(z, x.getShape()).duplicate()).clip(0f, 1f);
        }
    }

    private static List<SampleRecord> read(Path dir) throws Exception {
        List<SampleRecord> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve(RunDirectory.SAMPLES))) {
            out.add(RunDirectory.LINE.fromJson(line, SampleRecord.class));
        }
        return out;
    }

    @Test
    void givenAPurifierWhoseGradientIsNaN_whenAttackedAdaptively_thenNoStepIsTakenAndTheCellIsFlagged()
            throws Exception {
        Experiment exp = Experiment.builder("nan", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses("bits:3").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, 3),
                        ExperimentRunnerTest.attack("lavan", null, null, 3))
                .optBatch(4).optGradient("exact").build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })
                    .withDefense("bits:3", new NanGradientPurifier());
            r.run(r.manifest("test", Map.of()));
        }
        List<SampleRecord> nanRecs = read(tmp);
        assertEquals(2 * 4, nanRecs.size(), "two attacks on four images");
        for (SampleRecord rec : nanRecs) {
            assertTrue(rec.chunkNonFiniteGradients() > 0, rec.toString());
            assertTrue(Double.isFinite(rec.distLinf()), "no NaN image: " + rec);
            assertFalse(rec.nonFinite(), rec.toString());
        }
        Report.Summary s = Report.write(tmp);
        Report.Check grad = s.checks().stream().filter(ch -> ch.relation().equals("no gradient row is non-finite"))
                .findFirst().orElseThrow();
        assertFalse(grad.passed(), grad.toString());
        assertTrue(grad.detail().contains("bits:3|pgd"), grad.detail());
        assertTrue(s.cells().stream().allMatch(cell -> cell.warnings().stream()
                .anyMatch(w -> w.contains("non-finite"))), s.cells().toString());
        assertTrue(Files.readString(tmp.resolve("report.md")).contains("**FAIL** — no gradient row is non-finite"));
    }

    /**
     * Given a worst-of run made when median smoothing offered only BPDA, when its cells are redone after the filter
     * gained an EXACT route, then the manifest describes the routes the code offers now, in the cell's place, and the
     * report renders them (before the fix the new route's records had no description and the report failed).
     */
    @Test
    void givenADefenceThatGainedARoute_whenItsCellsAreRedone_thenTheManifestAndReportDescribeTheNewRoute()
            throws Exception {
        Experiment exp = Experiment.builder("redo-routes", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses("median:3", "jpeg:75").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, 2)).optBatch(4).optGradient("worst-of")
                .build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            MedianSmoothing median = new MedianSmoothing(3);
            Purifier bpdaOnly = new Purifier() { // the filter as it was: the same values, BPDA only
                public String name() {
                    return median.name();
                }

                public Set<GradientMode> gradientModes() {
                    return Set.of(GradientMode.BPDA);
                }

                public boolean randomized() {
                    return false;
                }

                public NDArray purify(NDArray x, long seed) {
                    return median.purify(x, seed);
                }
            };
            ExperimentRunner before = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })
                    .withDefense("median:3", bpdaOnly);
            before.run(before.manifest("test", Map.of()));
            ExperimentRunner now = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { });
            now.redo("median", "commit-2");
            now.run(now.manifest("test", Map.of()));
        }
        List<String> ids = new ArrayList<>(new RunDirectory(tmp).readManifest().cells().keySet());
        String cell = "median:3|pgd-linf-0.1000-s2|adaptive";
        assertTrue(ids.contains(cell + "@EXACT") && ids.contains(cell + "@BPDA"), ids.toString());
        assertTrue(ids.indexOf(cell + "@EXACT") < ids.indexOf("jpeg:75|pgd-linf-0.1000-s2|adaptive"),
                "the new routes stand where the cell stood: " + ids);
        Report.Summary s = Report.write(tmp);
        assertTrue(s.cells().stream().anyMatch(r -> r.cell().equals(cell + "@EXACT")), s.cells().toString());
    }

    @Test
    void givenARandomisedDefence_whenPgdAttacksAdaptively_thenItUsesEotRunsFullLengthAndTheLabelSaysSo()
            throws Exception {
        Experiment.AttackConfig pgd = Experiment.AttackConfig.builder("pgd").optNorm("linf").optEps(0.1).optSteps(3)
                .optEot(2).build();
        Experiment exp = Experiment.builder("eot", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses("bits:3").optModes("adaptive").optAttacks(pgd)
                .optBatch(4).optGradient("exact").build();
        Manifest manifest;
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })
                    .withDefense("bits:3", new NoisePurifier());
            manifest = r.manifest("test", Map.of());
            r.run(manifest);
        }
        // (3 steps + 1) gradient evaluations × 2 EOT copies, then 3 confirmation votes: nothing stops early
        List<SampleRecord> recs = read(tmp);
        assertEquals(4, recs.size(), "one cell of four images");
        for (SampleRecord rec : recs) {
            assertEquals(4 * 2 + 3, rec.forwardImagesPerImage(), rec.toString());
            assertEquals(3, rec.votes());
            assertNotNull(rec.singleRobust());
            assertNotNull(rec.anyCopyFooled());
        }
        String label = manifest.cells().values().iterator().next().gradientMode();
        assertTrue(label.startsWith("EXACT") && label.contains("with EOT 2") && label.contains("full length"), label);
        assertNotNull(manifest.hashes().get("model:classifier-resnet"));
        assertTrue(manifest.hashes().keySet().stream().anyMatch(k -> k.startsWith("subset:eval512")),
                manifest.hashes().toString());
    }

    @Test
    void givenTwoCellsOfOneRandomisedDefence_whenScored_thenTheyShareOneCleanAccuracy() throws Exception {
        Experiment exp = Experiment.builder("clean", "classifier-resnet").optSubset("eval512").optImages(8)
                .optProfile("quick").optSeeds(1L).optDefenses("bits:3").optModes("nonadaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.03, 2),
                        ExperimentRunnerTest.attack("fgsm", "linf", 0.03, 1))
                .optBatch(4).build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })
                    .withDefense("bits:3", new NoisePurifier());
            r.run(r.manifest("test", Map.of()));
        }
        Map<Integer, Integer> first = new HashMap<>();
        int compared = 0;
        for (SampleRecord rec : read(tmp)) {
            Integer before = first.putIfAbsent(rec.index(), rec.cleanPrediction());
            if (before != null) {
                assertEquals(before, rec.cleanPrediction(), "image " + rec.index());
                compared++;
            }
        }
        assertEquals(8, compared);
    }

    /** Four images in two chunks, MAEP (its shipped network, 2.5 MB) purifying a one-step FGSM on the classifier. */
    private static Experiment maepExperiment() {
        return Experiment.builder("maep-hash", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses("maep").optModes("nonadaptive")
                .optAttacks(ExperimentRunnerTest.attack("fgsm", "linf", 0.03, 1)).optBatch(2).build();
    }

    @Test
    void givenADefenceWithWeightsOfItsOwn_whenTheManifestIsWritten_thenItRecordsTheirSha256() throws Exception {
        Manifest manifest;
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                ExperimentRunner r = new ExperimentRunner(maepExperiment(), ExperimentRunnerTest.inputs(c), tmp,
                        s -> { })) {
            manifest = r.manifest("test", Map.of());
        }
        // the bytes on disk, hashed here, not the card's word for them
        String file = Files2.sha256(LustraHome.models().resolve("maep-fmnist").resolve(ModelStore.WEIGHTS));
        assertEquals(file, manifest.hashes().get("model:maep-fmnist"), manifest.hashes().toString());
        assertNotNull(manifest.hashes().get("model:classifier-resnet"));
        assertFalse(manifest.hashes().containsKey("model:" + DiffusionModel.UNNAMED_IN_CONFIGS),
                "MAEP does not run on the diffusion model: " + manifest.hashes());
    }

    /**
     * A run whose manifest was written before defences' weights were hashed (the entry absent) resumes, is redone,
     * reported and reproduced as before; a resume keeps the hashes as written (it adds only its history line), a redo adds the missing entry and
     * notes a changed one.
     */
    @Test
    void givenAManifestWithoutTheDefenceHash_whenResumedRedoneReportedAndReproduced_thenAllWorkAsBefore()
            throws Exception {
        Path run = tmp.resolve("run");
        RunDirectory dir = new RunDirectory(run);
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner.Inputs in = ExperimentRunnerTest.inputs(c);
            try (ExperimentRunner first = new ExperimentRunner(maepExperiment(), in, run, s -> { }).stopAfter(1)) {
                assertEquals(1, first.run(first.manifest("test", Map.of())));
            }
            Manifest written = dir.readManifest();
            Map<String, String> old = new LinkedHashMap<>(written.hashes());
            assertNotNull(old.remove("model:maep-fmnist"), written.hashes().toString());
            dir.writeManifest(ChangedInputsTest.withHashes(written, old));
            Manifest beforeResume = dir.readManifest();

            try (ExperimentRunner resumed = new ExperimentRunner(maepExperiment(), in, run, s -> { })) {
                assertEquals(1, resumed.run(resumed.manifest("test", Map.of())), "the missing chunk only");
            }
            Manifest afterResume = dir.readManifest();
            assertEquals(beforeResume.hashes(), afterResume.hashes(), "a resume leaves the hashes as written");
            assertEquals(beforeResume.cells(), afterResume.cells(), "and the cells");
            assertEquals(beforeResume.history().size() + 1, afterResume.history().size(),
                    "and only appends its own line to the history: " + afterResume.history());
            assertEquals(beforeResume.history(), afterResume.history().subList(0, beforeResume.history().size()));
            assertEquals(4, read(run).size());

            // and as if the classifier had been retrained since (a resume would refuse, ChangedInputsTest): a redo
            // must say the cells it keeps used other weights
            old.put("model:classifier-resnet", "0".repeat(64));
            dir.writeManifest(ChangedInputsTest.withHashes(written, old));
            try (ExperimentRunner redone = new ExperimentRunner(maepExperiment(), in, run, s -> { })) {
                assertEquals(1, redone.redo("maep", "commit-2").size());
                assertEquals(2, redone.run(redone.manifest("test", Map.of())));
            }
            Manifest redone = dir.readManifest();
            assertEquals(written.hashes(), redone.hashes(), "a redo records the hashes its cells run on: the entry the "
                    + "old manifest lacked is added, the others are unchanged");
            assertTrue(redone.history().stream().anyMatch(h -> h.contains("model:classifier-resnet changed from "
                    + "0".repeat(64))), redone.history().toString());
            assertTrue(redone.history().stream().noneMatch(h -> h.contains("model:maep-fmnist changed")),
                    "an added entry is not a change: " + redone.history());
            assertEquals(4, read(run).size());

            Report.Summary s = Report.write(run);
            assertEquals(1, s.cells().size(), s.cells().toString());
            Reproduction.Result again = Reproduction.run(run, in, 2, tmp.resolve("work"), x -> { });
            assertEquals(2, again.chunks().size());
            assertTrue(again.reproduced(), again.toString());
        }
    }

    /** The committed MAEP study was written before MAEP's weights were hashed: it still counts as finished. */
    @Test
    void givenTheCommittedMaepRunWithoutTheDefenceHash_whenReopened_thenItIsTheSameExperimentAndFinished()
            throws Exception {
        Path committed = LustraHome.root().resolve("docs/results/maep-study-adaptive-maep");
        Path run = tmp.resolve("committed");
        Files.createDirectories(run);
        for (String f : List.of(RunDirectory.MANIFEST, RunDirectory.SAMPLES)) {
            Files.copy(committed.resolve(f), run.resolve(f));
        }
        RunDirectory dir = new RunDirectory(run);
        Manifest old = dir.readManifest();
        assertFalse(old.hashes().containsKey("model:maep-fmnist"), "the premise: " + old.hashes());
        String before = Files.readString(dir.manifestFile());
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                // the committed config, as `lustra eval run` reads it for a resume
                ExperimentRunner r = new ExperimentRunner(Experiment.read(LustraHome.root().resolve(
                        "experiments/maep-study/adaptive-maep.json")), ExperimentRunnerTest.inputs(c), run, s -> { })) {
            Manifest now = r.manifest("test", Map.of());
            assertTrue(now.hashes().containsKey("model:maep-fmnist"), now.hashes().toString());
            assertEquals(List.of(), r.pendingChunks(now));
            // every hash the old manifest recorded is still what this checkout has (what an executor compares)
            for (Map.Entry<String, String> e : old.hashes().entrySet()) {
                assertEquals(e.getValue(), r.inputHashes().get(e.getKey()), e.getKey());
            }
        }
        assertEquals(before, Files.readString(dir.manifestFile()));
    }

    @Test
    void givenADefenceWithABrokenAndAWorkingRoute_whenWorstOfRuns_thenEachImageKeepsTheRouteThatFooledIt()
            throws Exception {
        Experiment exp = Experiment.builder("worst", "classifier-resnet").optSubset("eval512").optImages(8)
                .optProfile("quick").optSeeds(1L).optDefenses("bits:3").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, 5)).optBatch(8).optGradient("worst-of")
                .build();
        Manifest manifest;
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })
                    .withDefense("bits:3", new NanGradientPurifier());
            manifest = r.manifest("test", Map.of());
            r.run(manifest);
        }
        String label = manifest.cells().values().iterator().next().gradientMode();
        assertTrue(label.startsWith("worst of 2 routes per image: EXACT") && label.contains("| BPDA"), label);
        List<SampleRecord> recs = read(tmp);
        long fooled = recs.stream().filter(rec -> rec.cleanCorrect() && !rec.robust() && rec.route() != null).count();
        assertTrue(fooled > 0, "PGD ℓ∞ 0.1 through BPDA fools the undefended-like model");
        // EXACT's gradient is NaN everywhere: it takes no step, so every fooled image was fooled through BPDA
        List<SampleRecord> worst = recs.stream().filter(rec -> !rec.cell().contains("@")).toList();
        assertTrue(worst.stream().filter(rec -> !rec.robust() && rec.cleanCorrect())
                .allMatch(rec -> "BPDA".equals(rec.route())), worst.toString());
        // each route's own outcome is kept as a cell of its own, and the worst-of is no better than either
        Report.Summary s = Report.write(tmp);
        assertEquals(3, s.cells().size(), s.cells().toString());
        double worstOf = s.cells().stream().filter(cell -> !cell.cell().contains("@")).findFirst().orElseThrow()
                .robustMean();
        assertTrue(s.cells().stream().filter(cell -> cell.cell().contains("@"))
                .allMatch(cell -> worstOf <= cell.robustMean()), s.cells().toString());
    }

    @Test
    void givenAFinishedRun_whenReproduced_thenItsChunksMatch_andATamperedJournalIsCaught() throws Exception {
        Experiment exp = Experiment.builder("repro", "classifier-resnet").optSubset("eval512").optImages(8)
                .optProfile("quick").optSeeds(1L).optDefenses("none", "bits:3").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.05, 2)).optBatch(4).build();
        Path run = tmp.resolve("run");
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner.Inputs in = ExperimentRunnerTest.inputs(c);
            ExperimentRunner r = new ExperimentRunner(exp, in, run, s -> { })
                    .withDefense("bits:3", new NoisePurifier());
            r.run(r.manifest("test", Map.of()));
            // the reproduction builds defences by spec, as a user's would: reproduce the undefended cell's chunks
            Reproduction.Result ok = Reproduction.run(run, in, 1, tmp.resolve("w1"), s -> { });
            assertTrue(ok.reproduced(), ok.toString());

            Path journal = run.resolve(RunDirectory.SAMPLES);
            String text = Files.readString(journal);
            String first = text.substring(0, text.indexOf('\n'));
            String tampered = first.contains("\"robust\":true") ? first.replace("\"robust\":true", "\"robust\":false")
                    : first.replace("\"robust\":false", "\"robust\":true");
            // and a number moved by 0.25: the report gives its size, a flag flip has none
            Matcher psnr = Pattern.compile("\"psnr\":([-0-9.eE]+)").matcher(tampered);
            assertTrue(psnr.find(), tampered);
            tampered = tampered.replace(psnr.group(), "\"psnr\":" + (Double.parseDouble(psnr.group(1)) + 0.25));
            Files.writeString(journal, text.replace(first, tampered));
            Reproduction.Result bad = Reproduction.run(run, in, 1, tmp.resolve("w2"), s -> { });
            assertFalse(bad.reproduced());
            Reproduction.ChunkResult chunk = bad.chunks().get(0);
            assertTrue(chunk.fields().contains("robust"), bad.toString());
            assertTrue(chunk.maxAbsDiff().get("robust").isNaN(), chunk.toString());
            assertEquals(0.25, chunk.maxAbsDiff().get("psnr"), 1e-9, chunk.toString());
            assertTrue(chunk.describe().contains("psnr (max |Δ| 0.25)"), chunk.describe());
        }
    }
}
