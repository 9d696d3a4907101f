package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;

/**
 * "Non-adaptive cells run full length too" (issue 9, Build 4): a non-adaptive attack targets the bare classifier, but
 * against a randomised defence its first success on the classifier says nothing about the purified input, so it runs
 * every step and keeps the best objective; against a deterministic defence it keeps PGD's early exit.
 */
class NonAdaptiveFullLengthTest {
    @TempDir
    Path tmp;

    @Test
    void givenARandomisedDefence_whenANonAdaptivePgdCellRuns_thenEveryImageRunsEveryStep() throws Exception {
        int steps = 4;
        Experiment exp = Experiment.builder("nonadaptive", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses("bits:3", "jpeg:75").optModes("nonadaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, steps)).optBatch(4).build();
        // when
        Manifest manifest = run(exp);

        // then against the randomised defence: (steps + 1) gradient evaluations of the classifier (EOT 1: its target
        // is deterministic), then one confirming forward (one vote suffices for the deterministic classifier)
        List<SampleRecord> recs = new RunDirectory(tmp).readRecords();
        List<SampleRecord> randomised = recs.stream().filter(rec -> rec.cell().startsWith("bits:3|")).toList();
        assertEquals(4, randomised.size());
        for (SampleRecord rec : randomised) {
            assertEquals(steps + 1 + 1, rec.forwardImagesPerImage(), rec.toString());
        }
        String label = manifest.cells().get("bits:3|pgd-linf-0.1000-s4|nonadaptive").gradientMode();
        assertTrue(label.contains("full length, best objective kept"), label);
        // against the deterministic JPEG the early-exit path runs: one clean forward, then per step one gradient and
        // one checking forward for the whole chunk while any image is unfooled — 1 + 2t per image, never steps + 2
        List<SampleRecord> deterministic = recs.stream().filter(rec -> rec.cell().startsWith("jpeg:75|")).toList();
        assertEquals(4, deterministic.size());
        long forwards = deterministic.get(0).forwardImagesPerImage();
        assertTrue(forwards % 2 == 1 && forwards <= 1 + 2L * steps, "early-exit PGD: " + forwards);
        String jpeg = manifest.cells().get("jpeg:75|pgd-linf-0.1000-s4|nonadaptive").gradientMode();
        assertTrue(!jpeg.contains("full length"), jpeg);
    }

    @Test
    void givenFullLengthAsked_whenDeterministicAndUndefendedCellsRun_thenTheyRunEveryStepAndShareTheRandomisedRowsImages()
            throws Exception {
        int steps = 4;
        Experiment exp = Experiment.builder("full", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses("none", "jpeg:75", "bits:3").optModes("nonadaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, steps)).optBatch(4).optPaired(true)
                .optFullLength(true).build();
        // when
        Manifest manifest = run(exp);

        // then every row runs (steps + 1) gradient evaluations and one confirming forward, as the randomised row does
        List<SampleRecord> recs = new RunDirectory(tmp).readRecords();
        assertEquals(3 * 4, recs.size(), "three rows of four images");
        for (SampleRecord rec : recs) {
            assertEquals(steps + 1 + 1, rec.forwardImagesPerImage(), rec.toString());
        }
        for (String cell : List.of("none|pgd-linf-0.1000-s4|none", "jpeg:75|pgd-linf-0.1000-s4|nonadaptive")) {
            String label = manifest.cells().get(cell).gradientMode();
            assertTrue(label.contains("full length, best objective kept"), label);
        }
        // paired and full length: the attacked images no longer depend on the row (same ℓ2 distance per image)
        Map<String, Map<Integer, Double>> byRow = new TreeMap<>();
        for (SampleRecord rec : recs) {
            byRow.computeIfAbsent(rec.cell().substring(0, rec.cell().indexOf('|')), k -> new TreeMap<>())
                    .put(rec.index(), rec.distL2());
        }
        assertEquals(Set.of("none", "jpeg:75", "bits:3"), byRow.keySet());
        assertEquals(4, byRow.get("none").size());
        assertEquals(byRow.get("none"), byRow.get("jpeg:75"));
        assertEquals(byRow.get("none"), byRow.get("bits:3"));
    }

    /** Runs {@code exp} into the temporary folder, "bits:3" standing for a randomised defence; returns its manifest. */
    private Manifest run(Experiment exp) throws Exception {
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })
                    .withDefense("bits:3", new HarnessV2Test.NoisePurifier());
            Manifest manifest = r.manifest("test", Map.of());
            r.run(manifest);
            return manifest;
        }
    }
}
