package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Purifier;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;

/**
 * The clean images' votes depend on (run seed, defence, chunk) only, so the cells of one defence share them: a
 * defence with several attacks purifies its clean images once per chunk, and each cell's records are what a run of
 * that cell alone writes.
 */
class CleanVotesSharingTest {
    @TempDir
    Path tmp;

    @Test
    void givenOneRandomisedDefenceAndTwoAttacks_whenTheRunEnds_thenCleanImagesWerePurifiedOncePerChunkAndVote()
            throws Exception {
        // given 4 images in 2 chunks, K = 3 votes (quick profile, randomised purifier), two non-adaptive attacks
        CountingNoise noise = new CountingNoise();
        run(tmp.resolve("both"), noise, 0.1, 0.05);

        // then 2 chunks × 3 votes for the clean images, 2 cells × 2 chunks × 3 votes for the attacked ones, and one
        // purification per cell for its example panel (each cell purifying the clean images again would make it 26)
        assertEquals(6 + 12 + 2, noise.calls.get());
    }

    @Test
    void givenTheSecondAttacksCell_whenRunAfterAnotherCellOfItsDefenceOrAlone_thenItsRecordsAreTheSame()
            throws Exception {
        run(tmp.resolve("both"), new CountingNoise(), 0.1, 0.05);
        run(tmp.resolve("alone"), new CountingNoise(), 0.05);

        List<String> both = ExperimentRunnerTest.records(tmp.resolve("both")).stream()
                .filter(r -> r.contains("pgd-linf-0.0500")).toList();
        List<String> alone = ExperimentRunnerTest.records(tmp.resolve("alone"));
        assertEquals(4, alone.size());
        assertEquals(alone, both);
    }

    private static void run(Path dir, Purifier purifier, double... eps) throws Exception {
        Experiment.AttackConfig[] attacks = new Experiment.AttackConfig[eps.length];
        for (int i = 0; i < eps.length; i++) {
            attacks[i] = ExperimentRunnerTest.attack("pgd", "linf", eps[i], 1);
        }
        Experiment exp = Experiment.builder("clean-votes", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses("bits:3").optModes("nonadaptive").optAttacks(attacks)
                .optBatch(2).optPaired(true).optFullLength(true).build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), dir, s -> { })
                    .withDefense("bits:3", purifier).withAttack("pgd", new TransferSharingTest.CountingAttack());
            r.run(r.manifest("test", Map.of()));
        }
    }

    /** Gaussian noise of σ 0.1 from the seed (randomised, so judged by K votes), counting its calls. */
    private static final class CountingNoise implements Purifier {
        final AtomicInteger calls = new AtomicInteger();
        private final HarnessV2Test.NoisePurifier noise = new HarnessV2Test.NoisePurifier();

        @Override
        public String name() {
            return "counting noise";
        }

        @Override
        public Set<GradientMode> gradientModes() {
            return noise.gradientModes();
        }

        @Override
        public boolean randomized() {
            return true;
        }

        @Override
        public NDArray purify(NDArray x, long seed) {
            calls.incrementAndGet();
            return noise.purify(x, seed);
        }
    }
}
