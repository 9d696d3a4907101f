package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.attack.Attack;
import org.lustra.attack.AttackModel;
import org.lustra.attack.GradientCounts;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;

/**
 * In a paired run a non-adaptive attack sees only the bare classifier and draws the same streams for every row, so
 * the harness makes its images once per chunk and lets every defence judge them; unpaired rows draw their own.
 */
class TransferSharingTest {
    @TempDir
    Path tmp;

    @Test
    void givenAPairedRunWithThreeRows_whenItsNonAdaptiveCellsRun_thenTheAttackRunsOncePerChunkAndEveryRowJudgesItsImages()
            throws Exception {
        // given the undefended row and two deterministic defences, 4 images in 2 chunks, paired and full length
        CountingAttack attack = new CountingAttack();
        List<SampleRecord> recs = run(true, attack);

        // then the attack ran once per chunk, not once per row and chunk
        assertEquals(2, attack.runs.get());
        // and every row was scored on the same images (the same distance per image), one record per image and row
        assertEquals(12, recs.size());
        Map<String, Map<Integer, Double>> byRow = distancesByRow(recs);
        assertEquals(byRow.get("none"), byRow.get("jpeg:75"));
        assertEquals(byRow.get("none"), byRow.get("median:3"));
    }

    @Test
    void givenAnUnpairedRun_whenItsNonAdaptiveCellsRun_thenEveryRowRunsItsOwnAttack() throws Exception {
        CountingAttack attack = new CountingAttack();
        List<SampleRecord> recs = run(false, attack);

        assertEquals(6, attack.runs.get());
        assertEquals(12, recs.size());
        // each cell drew its own stream: the rows' images differ
        Map<String, Map<Integer, Double>> byRow = distancesByRow(recs);
        assertEquals(false, byRow.get("none").equals(byRow.get("jpeg:75")), byRow.toString());
    }

    private List<SampleRecord> run(boolean paired, Attack attack) throws Exception {
        Experiment exp = Experiment.builder("shared", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses("none", "jpeg:75", "median:3").optModes("nonadaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, 1)).optBatch(2).optPaired(paired)
                .optFullLength(true).build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })
                    .withAttack("pgd", attack);
            r.run(r.manifest("test", Map.of()));
        }
        return new RunDirectory(tmp).readRecords();
    }

    private static Map<String, Map<Integer, Double>> distancesByRow(List<SampleRecord> recs) {
        Map<String, Map<Integer, Double>> byRow = new TreeMap<>();
        for (SampleRecord rec : recs) {
            byRow.computeIfAbsent(rec.cell().substring(0, rec.cell().indexOf('|')), k -> new TreeMap<>())
                    .put(rec.index(), rec.distL2());
        }
        return byRow;
    }

    /** Moves every pixel by a random ±0.1 drawn from the run's seed, and counts its runs. */
    static final class CountingAttack extends StubLpAttack {
        final AtomicInteger runs = new AtomicInteger();

        CountingAttack() {
            super("no steps (a counting stub)");
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            runs.incrementAndGet();
            SplittableRandom rnd = new SplittableRandom(seed);
            float[] adv = x.clone();
            for (int j = 0; j < adv.length; j++) {
                adv[j] = Math.max(0f, Math.min(1f, x[j] + (rnd.nextBoolean() ? 0.1f : -0.1f)));
            }
            return new Outcome(adv, null, labels.length, GradientCounts.NONE, List.of());
        }
    }
}
