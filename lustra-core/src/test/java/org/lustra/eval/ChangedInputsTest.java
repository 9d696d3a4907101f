package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.LustraException;

/** A run begun on some weights is not finished on others: the manifest's hashes are compared on resume. */
class ChangedInputsTest {
    private static final String A = "a".repeat(64);
    private static final String B = "b".repeat(64);

    @TempDir
    Path tmp;

    @Test
    void givenManifestsThatDifferInOneHash_whenCompared_thenOnlyThatInputIsNamed() {
        Manifest then = withHashes(Map.of("model:x", A, "model:y", A));

        assertEquals(List.of("model:x (aaaaaaaaaaaa… → bbbbbbbbbbbb…)"),
                then.changedInputs(Map.of("model:x", B, "model:y", A)));
    }

    @Test
    void givenEntriesOneSideLacksOrCouldNotHash_whenCompared_thenNothingIsClaimed() {
        Map<String, String> old = new LinkedHashMap<>();
        old.put("model:gone", A);
        old.put("model:unhashed", "unavailable (no such file)");
        old.put("model:unhashed-now", A);

        assertTrue(withHashes(old).changedInputs(Map.of("model:unhashed", B, "model:new", B, "model:unhashed-now",
                "unavailable (no such file)")).isEmpty());
    }

    @Test
    void givenAManifestFromBeforeHarnessV2_whenCompared_thenNothingIsClaimed() {
        Manifest preV2 = new Manifest(null, null, null, null, Map.of(), 1, null, List.of());

        assertTrue(preV2.changedInputs(Map.of("model:x", B)).isEmpty());
    }

    @Test
    void givenARunBegunOnOtherClassifierWeights_whenResumed_thenItRefusesAndNamesTheModel() {
        Experiment exp = Experiment.builder("changed", "classifier-resnet").optSubset("eval512").optImages(2)
                .optProfile("quick").optSeeds(1L).optDefenses("none").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, 1)).optBatch(2).build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })) {
            Manifest begun = r.manifest("test", Map.of());
            r.pendingChunks(begun);
            Map<String, String> other = new LinkedHashMap<>(begun.hashes());
            other.put("model:classifier-resnet", A);
            r.directory().writeManifest(new Manifest(begun.experiment(), begun.created(), begun.gitCommit(),
                    begun.versions(), begun.cells(), begun.images(), begun.classifier(), begun.history(), other,
                    begun.seeds()));

            LustraException e = assertThrows(LustraException.class, () -> r.pendingChunks(r.manifest("test",
                    Map.of())));

            assertTrue(e.getMessage().contains("model:classifier-resnet (aaaaaaaaaaaa…"), e.getMessage());
            assertTrue(e.getMessage().contains("--redo"), e.getMessage());
        }
    }

    @Test
    void givenAFinishedRunWhoseWeightsChangedSince_whenRunAgain_thenNothingIsComputedAndNothingRefused() {
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                ExperimentRunner r = new ExperimentRunner(oneCell(), ExperimentRunnerTest.inputs(c), tmp, s -> { })) {
            Manifest begun = r.manifest("test", Map.of());
            r.run(begun);
            r.directory().writeManifest(withHashes(begun, "model:classifier-resnet", A));

            assertEquals(0, r.run(r.manifest("test", Map.of())), "a finished run only reports");
        }
    }

    @Test
    void givenHalfAKeptCellMadeOnWeightsThatChanged_whenAnotherCellIsRedone_thenTheRedoRefusesAndNamesIt() {
        Experiment exp = Experiment.builder("changed", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses("none", "median:3").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, 1)).optBatch(2).build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })
                        .stopAfter(3)) {
            Manifest begun = r.manifest("test", Map.of());
            r.run(begun); // none's two chunks and median's first: median is half made
            r.directory().writeManifest(withHashes(begun, "model:classifier-resnet", A));

            LustraException e = assertThrows(LustraException.class, () -> r.redo("none", "commit-2"));

            assertTrue(e.getMessage().contains("--redo median:3|pgd"), e.getMessage());
        }
    }

    @Test
    void givenARedoInterruptedAndWeightsChangedSince_whenTheSameRedoIsGivenAgain_thenItStartsOverInsteadOfResuming() {
        String commit = "c".repeat(40);
        Experiment exp = Experiment.builder("changed", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses("none").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, 1)).optBatch(2).build();
        List<String> log = new ArrayList<>();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, log::add)) {
            r.run(r.manifest(commit, Map.of()));
            r.redo("none", commit);
            r.stopAfter(1).run(r.manifest(commit, Map.of())); // the redo is half done
            r.directory().writeManifest(withHashes(r.directory().readManifest(), "model:classifier-resnet", A));
            log.clear();

            r.redo("none", commit);

            assertTrue(log.stream().noneMatch(l -> l.startsWith("Redo: resuming")), log.toString());
            assertTrue(log.stream().anyMatch(l -> l.startsWith("Redo: dropped 2 records")), log.toString());
        }
    }

    private static Experiment oneCell() {
        return Experiment.builder("changed", "classifier-resnet").optSubset("eval512").optImages(2)
                .optProfile("quick").optSeeds(1L).optDefenses("none").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, 1)).optBatch(2).build();
    }

    private static Manifest withHashes(Manifest m, String key, String value) {
        Map<String, String> hashes = new LinkedHashMap<>(m.hashes());
        hashes.put(key, value);
        return withHashes(m, hashes);
    }

    /** {@code m} with other hashes, as if its inputs had been other files (shared with {@link HarnessV2Test}). */
    static Manifest withHashes(Manifest m, Map<String, String> hashes) {
        return new Manifest(m.experiment(), m.created(), m.gitCommit(), m.versions(), m.cells(), m.images(),
                m.classifier(), m.history(), hashes, m.seeds());
    }

    private static Manifest withHashes(Map<String, String> hashes) {
        return new Manifest(null, "now", "test", Map.of(), Map.of(), 1, "c", List.of(), hashes, null);
    }
}
