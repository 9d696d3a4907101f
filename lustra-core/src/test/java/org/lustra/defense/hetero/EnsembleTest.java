package org.lustra.defense.hetero;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Purifier;
import org.lustra.model.Classifier;

/**
 * Mean and vote ensembles on scripted members: a purifier that turns row r of the stacked batch into the
 * probabilities member r / N gives image (value of the row), and a classifier whose logits are log(input).
 * Image 0: members (0.9, .05, .05), (.3, .6, .1), (.3, .6, .1) — two votes for class 1, mean probability highest for
 * class 0 (0.5 vs 0.4167). Image 1: members vote 0, 1, 2 — a tie, broken by the mean (0.3, 0.4, 0.3) to class 1.
 */
class EnsembleTest {
    private static final float[][][] MEMBERS = {
        {{0.9f, 0.05f, 0.05f}, {0.6f, 0.3f, 0.1f}},
        {{0.3f, 0.6f, 0.1f}, {0.2f, 0.7f, 0.1f}},
        {{0.3f, 0.6f, 0.1f}, {0.1f, 0.2f, 0.7f}},
    };

    /** Batch sizes the scripted purifier was called with. */
    private final List<Long> calls = new ArrayList<>();

    private final Purifier scripted = new Purifier() {
        public String name() {
            return "scripted";
        }

        public Set<GradientMode> gradientModes() {
            return Set.of(GradientMode.EXACT, GradientMode.BPDA);
        }

        public boolean randomized() {
            return true;
        }

        public NDArray purify(NDArray x, long seed) {
            long rows = x.getShape().get(0);
            calls.add(rows);
            float[] id = x.toFloatArray();
            float[] out = new float[(int) rows * 3];
            for (int r = 0; r < rows; r++) {
                int image = Math.round(id[r * 3]);
                System.arraycopy(MEMBERS[r / 2][image], 0, out, r * 3, 3);
            }
            return x.getManager().create(out, x.getShape());
        }
    };

    private static final Classifier LOG = new Classifier() {
        public String name() {
            return "log";
        }

        public int channels() {
            return 3;
        }

        public int size() {
            return 1;
        }

        public List<String> classNames() {
            return List.of("a", "b", "c");
        }

        public Output forward(NDArray x) {
            return new Output(x.reshape(x.getShape().get(0), 3).log(), List.of());
        }

        public void close() {}
    };

    /** Two images, (2, 3, 1, 1), whose pixels hold their index. */
    private static NDArray images(NDManager m) {
        return m.create(new float[] {0, 0, 0, 1, 1, 1}, new Shape(2, 3, 1, 1));
    }

    @Test
    void givenMembersThatDisagree_whenVoting_thenTheMajorityWinsAndTiesGoToTheHigherMean() {
        try (NDManager m = NDManager.newBaseManager()) {
            Ensemble e = new Ensemble(new DefendedClassifier(scripted, LOG), 3, Ensemble.Aggregation.VOTE);
            assertArrayEquals(new int[] {1, 1}, e.predict(images(m), 0));
        }
    }

    @Test
    void givenMembersThatDisagree_whenAveraging_thenTheHighestMeanProbabilityWins() {
        try (NDManager m = NDManager.newBaseManager()) {
            Ensemble e = new Ensemble(new DefendedClassifier(scripted, LOG), 3, Ensemble.Aggregation.MEAN);
            assertArrayEquals(new int[] {0, 1}, e.predict(images(m), 0));
        }
    }

    @Test
    void givenAnEnsemble_whenPredicting_thenAllMembersRunAsOneBatch() {
        try (NDManager m = NDManager.newBaseManager()) {
            new Ensemble(new DefendedClassifier(scripted, LOG), 3, Ensemble.Aggregation.VOTE).predict(images(m), 0);
            assertEquals(List.of(6L), calls);
        }
    }

    @Test
    void givenBothAggregations_whenScored_thenMeanProbabilitiesAndVoteFractions() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] mean = new Ensemble(new DefendedClassifier(scripted, LOG), 3, Ensemble.Aggregation.MEAN)
                    .scores(images(m), GradientMode.BPDA, 0).toFloatArray();
            assertArrayEquals(new float[] {0.5f, 1.25f / 3, 0.25f / 3, 0.3f, 0.4f, 0.3f}, mean, 1e-5f);
            float[] votes = new Ensemble(new DefendedClassifier(scripted, LOG), 3, Ensemble.Aggregation.VOTE)
                    .scores(images(m), GradientMode.BPDA, 0).toFloatArray();
            assertArrayEquals(new float[] {1 / 3f, 2 / 3f, 0, 1 / 3f, 1 / 3f, 1 / 3f}, votes, 1e-6f);
        }
    }

    @Test
    void givenNoMembers_whenConstructed_thenIllegalArgument() {
        assertThrows(IllegalArgumentException.class,
                () -> new Ensemble(new DefendedClassifier(scripted, LOG), 0, Ensemble.Aggregation.MEAN));
    }
}
