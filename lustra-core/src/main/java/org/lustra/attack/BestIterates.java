package org.lustra.attack;

import java.util.Arrays;

/**
 * Per sample, the best objective seen so far and the iterate that reached it: the bookkeeping of every attack that,
 * against a randomised target, runs to full length and returns the iterate with the best EOT objective instead of a
 * first success under one draw (PGD, APGD, LaVAN, GDPA-like; DiffBreak, DiffHammer).
 *
 * <p>An offer replaces the kept iterate only when its loss is strictly greater: a tie keeps the earlier iterate.
 * {@link AttackModel} ranks a non-finite loss as −∞, below every finite one, so a sample whose every loss was
 * non-finite keeps its initial iterate. A NaN loss cannot come from there: it is a bug upstream, and is refused
 * rather than compared (NaN compares false, which would silently make it "never better").
 */
final class BestIterates {
    private final int d;
    private final float[] iterates;
    private final float[] losses;

    /** Starts every sample at its row of {@code initial} (n·d values) with loss −∞: the first finite offer wins. */
    BestIterates(float[] initial, int n) {
        this(initial, filled(n));
    }

    /** Starts at {@code initial} with {@code initialLosses}, which count: a later offer has to beat them. */
    BestIterates(float[] initial, float[] initialLosses) {
        int n = initialLosses.length;
        if (n < 1 || initial.length % n != 0) {
            throw new IllegalArgumentException("Invalid best iterates: " + initial.length + " values for " + n
                    + " samples (need n ≥ 1 and n·d values)");
        }
        for (int i = 0; i < n; i++) {
            requireNotNaN(i, initialLosses[i]);
        }
        this.d = initial.length / n;
        this.iterates = initial.clone();
        this.losses = initialLosses.clone();
    }

    private static float[] filled(int n) {
        float[] l = new float[n];
        Arrays.fill(l, Float.NEGATIVE_INFINITY);
        return l;
    }

    private static void requireNotNaN(int sample, float loss) {
        if (Float.isNaN(loss)) {
            throw new IllegalArgumentException("NaN loss for sample " + sample + ": attack losses come from "
                    + "AttackModel, which ranks non-finite losses as -Infinity; find where this one escaped it");
        }
    }

    /**
     * Offers row {@code row} of {@code rows} (d values per row) as an iterate of sample {@code sample} with objective
     * {@code loss}; keeps it when strictly better than the kept one. Returns whether it was kept.
     */
    boolean offer(int sample, float loss, float[] rows, int row) {
        requireNotNaN(sample, loss);
        if (!(loss > losses[sample])) {
            return false;
        }
        losses[sample] = loss;
        System.arraycopy(rows, row * d, iterates, sample * d, d);
        return true;
    }

    /** Offers a whole batch whose row i is an iterate of sample i; returns which rows were kept. */
    boolean[] offerAll(float[] loss, float[] rows) {
        if (loss.length != losses.length || rows.length != iterates.length) {
            throw new IllegalArgumentException("Batch of " + loss.length + " losses and " + rows.length
                    + " values offered to " + losses.length + " samples of " + d + " values");
        }
        boolean[] kept = new boolean[loss.length];
        for (int i = 0; i < loss.length; i++) {
            kept[i] = offer(i, loss[i], rows, i);
        }
        return kept;
    }

    /** The kept loss of one sample (−∞ while nothing finite was offered). */
    float loss(int sample) {
        return losses[sample];
    }

    /** The kept losses; this object's array, read-only for callers. */
    float[] losses() {
        return losses;
    }

    /** The kept iterates, n·d values; this object's array, read-only for callers (they hand it on as a result). */
    float[] iterates() {
        return iterates;
    }
}
