package org.lustra.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.function.Function;
import org.lustra.data.ImageSet;
import org.lustra.util.Progress;

/** Batched prediction over an {@link ImageSet}, with per-batch memory scopes. */
public final class Predictions {
    private Predictions() {}

    /** Arg-max class of every image; {@code logits} maps a batch to (N, K) logits in the batch's manager. */
    public static int[] predict(Function<NDArray, NDArray> logits, ImageSet set, int batchSize, NDManager parent,
            Progress progress) {
        int[] pred = new int[set.size()];
        for (int from = 0; from < set.size(); from += batchSize) {
            int to = Math.min(set.size(), from + batchSize);
            try (NDManager m = parent.newSubManager()) {
                NDArray x = set.batch(m, from, to);
                long[] p = logits.apply(x).argMax(1).toLongArray();
                for (int i = 0; i < p.length; i++) {
                    pred[from + i] = (int) p[i];
                }
            }
            if (progress != null) {
                progress.update(to, "");
            }
        }
        return pred;
    }

    public static int[] predict(Classifier c, ImageSet set, int batchSize, Progress progress) {
        try (NDManager m = NDManager.newBaseManager()) {
            return predict(c::logits, set, batchSize, m, progress);
        }
    }

    /** Fraction of {@code pred} equal to the set's labels. */
    public static double accuracy(int[] pred, ImageSet set) {
        int ok = 0;
        for (int i = 0; i < pred.length; i++) {
            if (pred[i] == set.label(i)) {
                ok++;
            }
        }
        return (double) ok / pred.length;
    }
}
