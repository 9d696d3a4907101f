package org.lustra.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
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

    /**
     * Where the errors of {@code pred} fall — per true class and the most frequent true → predicted pairs — because
     * a purifier that loses accuracy on a few look-alike classes (shirt, pullover, coat) is a different finding from
     * one that loses it everywhere.
     */
    public static String errorSummary(int[] pred, ImageSet set, List<String> names) {
        int[][] pairs = new int[names.size()][names.size()];
        int[] byTrue = new int[names.size()];
        int wrong = 0;
        for (int i = 0; i < pred.length; i++) {
            if (pred[i] != set.label(i)) {
                pairs[set.label(i)][pred[i]]++;
                byTrue[set.label(i)]++;
                wrong++;
            }
        }
        if (wrong == 0) {
            return "0 errors";
        }
        StringBuilder sb = new StringBuilder(wrong + " errors by true class:");
        for (int k = 0; k < names.size(); k++) {
            if (byTrue[k] > 0) {
                sb.append(' ').append(names.get(k)).append(' ').append(byTrue[k]);
            }
        }
        List<int[]> top = new ArrayList<>();
        for (int a = 0; a < names.size(); a++) {
            for (int b = 0; b < names.size(); b++) {
                if (pairs[a][b] > 0) {
                    top.add(new int[] {a, b, pairs[a][b]});
                }
            }
        }
        top.sort((u, v) -> Integer.compare(v[2], u[2]));
        sb.append("; most frequent");
        for (int[] e : top.subList(0, Math.min(5, top.size()))) {
            sb.append(' ').append(names.get(e[0])).append("->").append(names.get(e[1])).append(' ').append(e[2]);
        }
        return sb.toString();
    }
}
