package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.Json;

/** AdvP's universal patches: trained from their own seed, whichever chunk asks first. */
class UniversalPatchesTest {
    @TempDir
    Path tmp;

    /** An adaptive, untargeted 3-step AdvP cell against a randomised defence (seeded noise), 8 images in 2 chunks. */
    static Experiment adaptiveAdvp(String gradient) {
        return Experiment.builder("advp", "classifier-resnet").optSubset("eval512").optImages(8).optProfile("quick")
                .optSeeds(1L).optDefenses("bits:3").optModes("adaptive")
                .optAttacks(Experiment.AttackConfig.builder("advp").optSteps(3).optTarget(-1).build()).optBatch(4)
                .optGradient(gradient).build();
    }

    /** Records of one chunk without the wall-clock field. */
    private static List<String> comparable(List<SampleRecord> recs) {
        return recs.stream().map(r -> RunDirectory.line(new SampleRecord(r.seed(), r.cell(), r.chunk(), r.index(),
                r.label(), r.cleanPrediction(), r.adversarialPrediction(), r.cleanCorrect(), r.robust(),
                r.anyCopyFooled(), r.votes(), r.distLinf(), r.distL2(), r.psnr(), r.ssim(), r.patchArea(), 0,
                r.forwardImagesPerImage(), r.singleRobust(), r.nonFinite(), r.patchValid(), r.chunkGradientRows(),
                r.chunkNonFiniteGradients(), r.chunkZeroGradients(), r.route()))).toList();
    }

    @Test
    void givenAnAdaptiveAdvpCellOfARandomisedDefence_whenItsChunksRunInEitherOrder_thenPatchAndRecordsAreTheSame()
            throws Exception {
        Experiment exp = adaptiveAdvp("exact");
        String cell = exp.cells().get(0).id();
        RunDirectory.ChunkKey first = new RunDirectory.ChunkKey(1, cell, 0);
        RunDirectory.ChunkKey second = new RunDirectory.ChunkKey(1, cell, 1);
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner inOrder = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp.resolve("a"),
                    s -> { }).withDefense("bits:3", new HarnessV2Test.NoisePurifier());
            List<String> a0 = comparable(inOrder.computeChunk(first)); // chunk 0 trains the patch
            List<String> a1 = comparable(inOrder.computeChunk(second));
            ExperimentRunner reversed = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp.resolve("b"),
                    s -> { }).withDefense("bits:3", new HarnessV2Test.NoisePurifier());
            List<String> b1 = comparable(reversed.computeChunk(second)); // chunk 1 trains it, as another engine may
            List<String> b0 = comparable(reversed.computeChunk(first));

            String owner = UniversalPatches.owner(exp.cells().get(0));
            byte[] patchA = Files.readAllBytes(inOrder.directory().patchFile(owner, 1));
            byte[] patchB = Files.readAllBytes(reversed.directory().patchFile(owner, 1));
            assertArrayEquals(patchA, patchB, "the patch depends on its seed alone, not on the chunk that trained it");
            assertEquals(a0, b0);
            assertEquals(a1, b1);
            assertTrue(a0.size() == 4 && a1.size() == 4);
        }
    }

    @Test
    void givenAdvpCellsThatTrainTheirPatches_whenReported_thenTrainingGradientsAreCountedOncePerPatchAndInNoRecord()
            throws Exception {
        // worst-of: the adaptive cell trains one patch per route (EXACT, BPDA); the undefended one the bare patch
        Experiment exp = Experiment.builder("cost", "classifier-resnet").optSubset("eval512").optImages(8)
                .optProfile("quick").optSeeds(1L).optDefenses("none", "bits:3").optModes("adaptive")
                .optAttacks(Experiment.AttackConfig.builder("advp").optSteps(3).optTarget(-1).build()).optBatch(4)
                .optGradient("worst-of").build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })
                    .withDefense("bits:3", new HarnessV2Test.NoisePurifier());
            r.run(r.manifest("test", Map.of()));
        }
        // pasting a trained patch takes no gradient: no record carries the training, whichever chunk ran it
        for (SampleRecord rec : new RunDirectory(tmp).readRecords()) {
            assertEquals(0L, rec.chunkGradientRows(), rec.toString());
        }
        // 3 steps of batch 32: 96 gradient rows per patch; through the noisy defence with EOT 4, 384 forwards
        Experiment.Cell adaptive = exp.cells().get(1);
        UniversalPatches.PatchInfo exact = Json.read(RunDirectory.patchInfoFile(new RunDirectory(tmp).patchFile(
                UniversalPatches.owner(adaptive, "@EXACT"), 1)), UniversalPatches.PatchInfo.class);
        assertEquals(96L, exact.trainingGradientRows());
        assertEquals(384L, exact.trainingForwardImages());
        assertEquals(0L, exact.trainingNonFiniteGradients());

        Report.Summary s = Report.write(tmp);
        Map<String, Report.CellSummary> byId = new java.util.HashMap<>();
        s.cells().forEach(cell -> byId.put(cell.cell(), cell));
        assertEquals(96L, byId.get(exp.cells().get(0).id()).patchTrainingGradients());
        assertEquals(2, byId.get(adaptive.id()).universalPatches(), "one patch per route");
        assertEquals(192L, byId.get(adaptive.id()).patchTrainingGradients());
        assertEquals(96L, byId.get(adaptive.id() + "@BPDA").patchTrainingGradients());
        assertEquals(0L, byId.get(adaptive.id()).gradientRows(), "the records' counts exclude the training");
        assertTrue(Files.readString(tmp.resolve("report.md")).contains("| 192 (2 patches) |"));
    }
}
