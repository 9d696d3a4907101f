package org.lustra.defense.hetero;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.GradientMode;

/**
 * The seed's ensemble (Algorithm 3): S purifications of each input, classified, and aggregated — the paper averages
 * the classifier's outputs, its code takes a majority vote (SPEC §5); both are offered. The S members run as one
 * batch of S·N rows (S copies of the input stacked member-major, each row with its own noise), so the UNet sees one
 * large batch per step instead of S small ones. Works for any purifier; it lives here because the hetero purifier is
 * the method that asks for it.
 *
 * <p>This is the defender's prediction rule. The evaluation harness's K-vote (SPEC §7) is a separate layer on top:
 * it re-runs whatever prediction rule the defence has K times.
 */
public final class Ensemble {

    /** How the members' outputs become one prediction. */
    public enum Aggregation {
        /** Mean of the members' softmax probabilities (the paper); differentiable in the gradient mode. */
        MEAN,
        /** The class most members predict (the seed's code); a tie goes to the tied class of higher mean probability. */
        VOTE
    }

    private final DefendedClassifier defended;
    private final int members;
    private final Aggregation aggregation;

    public Ensemble(DefendedClassifier defended, int members, Aggregation aggregation) {
        if (members < 1 || members > 1024) {
            throw new IllegalArgumentException("Invalid ensemble size S: " + members + " (1..1024)");
        }
        if (aggregation == null) {
            throw new IllegalArgumentException("Missing ensemble aggregation (MEAN or VOTE)");
        }
        this.defended = defended;
        this.members = members;
        this.aggregation = aggregation;
    }

    public int members() {
        return members;
    }

    public Aggregation aggregation() {
        return aggregation;
    }

    public String name() {
        return defended.name() + " ×" + members + " " + aggregation.name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The members' logits (S, N, K) from one purification of the S·N stacked rows, through {@code mode} (see
     * {@link DefendedClassifier#logits}); owned by x's manager.
     */
    public NDArray memberLogits(NDArray x, GradientMode mode, long seed) {
        long n = x.getShape().get(0);
        NDArray stacked = x.tile(new long[] {members, 1, 1, 1});
        NDArray logits = defended.logits(stacked, mode, seed);
        return logits.reshape(members, n, logits.getShape().get(1));
    }

    /**
     * Class scores (N, K), owned by x's manager: for MEAN the mean probability (differentiable through {@code mode});
     * for VOTE the fraction of members voting for each class (piecewise constant: no gradient).
     */
    public NDArray scores(NDArray x, GradientMode mode, long seed) {
        NDArray probs = memberLogits(x, mode, seed).softmax(2);
        if (aggregation == Aggregation.MEAN) {
            return probs.mean(new int[] {0});
        }
        long k = probs.getShape().get(2);
        NDArray votes = probs.stopGradient().argMax(2).oneHot((int) k).toType(ai.djl.ndarray.types.DataType.FLOAT32,
                false);
        return votes.mean(new int[] {0});
    }

    /** The ensemble's prediction per input, without gradients. */
    public int[] predict(NDArray x, long seed) {
        long n = x.getShape().get(0);
        try (NDManager s = x.getManager().newSubManager()) {
            s.tempAttachAll(x);
            NDArray stacked = x.stopGradient().tile(new long[] {members, 1, 1, 1});
            NDArray logits = defended.classifier().logits(defended.purifier().purify(stacked, seed));
            int k = (int) logits.getShape().get(1);
            float[] p = logits.reshape(new Shape(members, n, k)).softmax(2).toFloatArray();
            return aggregate(p, members, (int) n, k, aggregation);
        }
    }

    /**
     * Predictions from member probabilities laid out (S, N, K) row-major. Public for the harness, which may hold the
     * members' probabilities already.
     */
    public static int[] aggregate(float[] probs, int members, int n, int k, Aggregation aggregation) {
        if (probs.length != (long) members * n * k) {
            throw new IllegalArgumentException("Expected " + members + "×" + n + "×" + k + " probabilities, got "
                    + probs.length);
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            double[] mean = new double[k];
            int[] votes = new int[k];
            for (int m = 0; m < members; m++) {
                int base = (m * n + i) * k;
                int best = 0;
                for (int c = 0; c < k; c++) {
                    mean[c] += probs[base + c] / (double) members;
                    best = probs[base + c] > probs[base + best] ? c : best;
                }
                votes[best]++;
            }
            int pick = 0;
            for (int c = 1; c < k; c++) {
                boolean better = aggregation == Aggregation.MEAN ? mean[c] > mean[pick]
                        : votes[c] > votes[pick] || (votes[c] == votes[pick] && mean[c] > mean[pick]);
                pick = better ? c : pick;
            }
            out[i] = pick;
        }
        return out;
    }
}
