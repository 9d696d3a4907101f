package org.lustra.util;

import java.util.function.IntUnaryOperator;

/** Seeded shuffles shared by data subsets, classifier training and prompt tuning. */
public final class Permutations {
    private Permutations() {}

    /**
     * A uniformly random permutation of 0..n−1 (Fisher–Yates from the end); {@code nextInt} maps a bound b to a draw in
     * [0, b), e.g. {@code rng::nextInt} of a {@link java.util.SplittableRandom}. The same draws give the same order.
     */
    public static int[] random(int n, IntUnaryOperator nextInt) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = nextInt.applyAsInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
