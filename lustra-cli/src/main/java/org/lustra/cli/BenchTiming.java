package org.lustra.cli;

import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * How {@code bench} times one line: {@code warm} untimed runs first (the engine's first iterations of a shape run
 * 1.5–3× slower, DJL-NOTES), then the median of {@code runs} timed runs. Every run gets its own sub-manager, so
 * nothing it allocates outlives it and later runs are not slowed by piling arrays.
 */
record BenchTiming(int warm, int runs) {
    BenchTiming {
        if (warm < 0 || runs < 1) {
            throw new IllegalArgumentException("Invalid bench timing: " + warm + " warm-up and " + runs
                    + " timed runs (need ≥ 0 and ≥ 1)");
        }
    }

    /** Median wall seconds of one run of {@code body}. */
    double medianSeconds(NDManager parent, Consumer<NDManager> body) {
        for (int i = 0; i < warm; i++) {
            try (NDManager s = parent.newSubManager()) {
                body.accept(s);
            }
        }
        double[] seconds = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            try (NDManager s = parent.newSubManager()) {
                body.accept(s);
            }
            seconds[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(seconds);
        int mid = runs / 2;
        return runs % 2 == 1 ? seconds[mid] : (seconds[mid - 1] + seconds[mid]) / 2;
    }

    @Override
    public String toString() {
        return warm + " warm-up + median of " + runs;
    }
}
