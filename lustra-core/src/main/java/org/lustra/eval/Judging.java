package org.lustra.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lustra.attack.LogitRows;
import org.lustra.defense.DefendedClassifier;

/** How a chunk's inputs are judged: K independent predictions of the defended model, each a fresh purification. */
final class Judging {

    private Judging() {}

    /**
     * {@code votes} independent predictions of the defended model, and the images the first of them classified after
     * purification (null for the undefended classifier) and, when asked for, the region it replaced ({@code replaced},
     * N·H·W; null unless the purifier masks).
     */
    record Judged(int[][] votes, float[] purified, float[] replaced) {}

    /**
     * Predictions of the defended model, {@code votes} independent evaluations (one for deterministic defences);
     * {@code withMask}: the first also reports the region a masking purifier replaced (patch cells).
     */
    static Judged predict(NDManager m, DefendedClassifier defended, float[] x, Shape image, int votes,
            long seed, boolean withMask) {
        int n = x.length / Math.toIntExact(image.size());
        int[][] out = new int[votes][n];
        float[] purified = null;
        float[] replaced = null;
        for (int v = 0; v < votes; v++) {
            try (NDManager s = m.newSubManager()) {
                NDArray xa = s.create(x, new Shape(n, image.get(0), image.get(1), image.get(2)));
                // the forward of logits(x, BPDA, seed) to the bit, so votes are what they were before fidelity existed
                DefendedClassifier.Evaluation e = v == 0 && withMask ? defended.evaluateWithMask(xa, seed + v)
                        : defended.evaluate(xa, seed + v);
                if (v == 0 && !defended.undefended()) {
                    purified = e.purified().toFloatArray();
                }
                if (e.mask() != null) {
                    replaced = e.mask().toFloatArray();
                }
                float[] z = e.logits().toFloatArray();
                int k = z.length / n;
                for (int i = 0; i < n; i++) {
                    // a row with a non-finite logit is no class at all (-1: never correct, never a chosen class);
                    // argMax would call it class 0
                    boolean finite = true;
                    for (int j = i * k; j < (i + 1) * k; j++) {
                        finite &= Float.isFinite(z[j]);
                    }
                    out[v][i] = finite ? LogitRows.argMax(z, i, k) : -1;
                }
            }
        }
        return new Judged(out, purified, replaced);
    }
}
