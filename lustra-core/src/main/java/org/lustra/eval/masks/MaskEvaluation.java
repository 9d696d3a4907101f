package org.lustra.eval.masks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.lustra.defense.MaskScores;
import org.lustra.defense.MaskingPurifier;
import org.lustra.model.Classifier;

/**
 * One masking purifier on a set of images: its masks scored against the true ones ({@link MaskScores}) and the
 * classifier's accuracy on what it returns, in batches of {@value PatchedImages#CHUNK} (one purifier call and one
 * classifier call per batch).
 *
 * @param scores mask scores (on clean images: the masked share is the false-positive pixel rate)
 * @param correct images the classifier gets right after purification
 * @param images images seen
 */
public record MaskEvaluation(MaskScores scores, int correct, int images) {

    public double accuracy() {
        return images == 0 ? Double.NaN : (double) correct / images;
    }

    /**
     * Purifies {@code x} (n·C·H·W of {@code shape}) with {@code purifier} (seed {@code seed} for every batch) and scores
     * masks against {@code truth} (n·H·W, null for clean images) and the purified images' classes against
     * {@code labels}.
     */
    public static MaskEvaluation run(MaskingPurifier purifier, Classifier classifier, float[] x, int[] labels,
            float[] truth, Shape shape, long seed) {
        int d = Math.toIntExact(shape.size());
        int plane = (int) (shape.get(1) * shape.get(2));
        int n = labels.length;
        MaskScores scores = new MaskScores();
        int right = 0;
        try (NDManager m = NDManager.newBaseManager()) {
            for (int from = 0; from < n; from += PatchedImages.CHUNK) {
                int to = Math.min(n, from + PatchedImages.CHUNK);
                try (NDManager s = m.newSubManager()) {
                    NDArray in = s.create(Arrays.copyOfRange(x, from * d, to * d),
                            new Shape(to - from, shape.get(0), shape.get(1), shape.get(2)));
                    MaskingPurifier.Masked r = purifier.purifyMasked(in, seed);
                    float[] mask = r.mask().toFloatArray();
                    for (int i = 0; i < to - from; i++) {
                        scores.add(mask, i * plane, truth, (from + i) * plane, plane);
                    }
                    float[] z = classifier.logits(r.purified()).toFloatArray();
                    int k = z.length / (to - from);
                    for (int i = 0; i < to - from; i++) {
                        right += PatchedImages.argMax(z, i * k, k) == labels[from + i] ? 1 : 0;
                    }
                }
            }
        }
        return new MaskEvaluation(scores, right, n);
    }
}
