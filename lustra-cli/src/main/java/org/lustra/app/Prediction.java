package org.lustra.app;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A classifier's answer for one image: the top class with its probability, and the {@code top} most probable classes
 * (name → probability, most probable first). Probabilities are rounded to 4 decimals for reports.
 */
public record Prediction(int label, String className, double probability, Map<String, Double> top) {

    /** Row {@code row} of softmax probabilities (N, K) in {@code probs}; {@code top} ≥ 1 classes listed. */
    public static Prediction of(float[] probs, int row, List<String> classNames, int top) {
        int k = classNames.size();
        Integer[] order = new Integer[k];
        for (int j = 0; j < k; j++) {
            order[j] = j;
        }
        // NaN sorts last, so a non-finite row never names a class by accident of index 0
        Arrays.sort(order, (a, b) -> Float.compare(finite(probs[row * k + b]), finite(probs[row * k + a])));
        Map<String, Double> best = new LinkedHashMap<>();
        for (int j = 0; j < Math.min(top, k); j++) {
            best.put(classNames.get(order[j]), round(probs[row * k + order[j]]));
        }
        int label = order[0];
        return new Prediction(label, classNames.get(label), round(probs[row * k + label]), best);
    }

    private static float finite(float p) {
        return Float.isNaN(p) ? Float.NEGATIVE_INFINITY : p;
    }

    static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }
}
