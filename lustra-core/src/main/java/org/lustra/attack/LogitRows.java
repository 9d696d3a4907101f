package org.lustra.attack;

/**
 * Questions about one row of a flat logits array (N·K values, row i at i·K): argmax, margin, finiteness. A row with a
 * non-finite logit is never "misclassified", so a NaN image can never count as an attack's success.
 */
public final class LogitRows {
    private LogitRows() {}

    /**
     * Whether row i's prediction differs from {@code label}; a row with a non-finite logit is never misclassified
     * (NaN compares false, so argMax would answer 0 and a NaN image would count as a success).
     */
    public static boolean misclassified(float[] logits, int i, int k, int label) {
        return finiteRow(logits, i, k) && argMax(logits, i, k) != label;
    }

    /** Whether every logit of row i is finite. */
    public static boolean finiteRow(float[] logits, int i, int k) {
        for (int j = 0; j < k; j++) {
            if (!Float.isFinite(logits[i * k + j])) {
                return false;
            }
        }
        return true;
    }

    /** Index of the largest logit of row i. */
    public static int argMax(float[] logits, int i, int k) {
        int best = 0;
        for (int j = 1; j < k; j++) {
            if (logits[i * k + j] > logits[i * k + best]) {
                best = j;
            }
        }
        return best;
    }

    /** z_y − max_{j≠y} z_j of row i: negative when misclassified. */
    public static float margin(float[] logits, int i, int k, int y) {
        float other = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) {
            if (j != y) {
                other = Math.max(other, logits[i * k + j]);
            }
        }
        return logits[i * k + y] - other;
    }
}
