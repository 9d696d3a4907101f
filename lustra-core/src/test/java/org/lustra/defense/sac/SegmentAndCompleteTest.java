package org.lustra.defense.sac;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.lustra.defense.MaskingPurifier;

class SegmentAndCompleteTest {

    /** τ at the 90th percentile of an untrained segmenter's probabilities on x, so part of each image is masked. */
    private static double percentile90(PatchSegmenter s, NDArray x) {
        try (NDManager m = x.getManager().newSubManager()) {
            float[] p = Activation.sigmoid(s.logits(new ParameterStore(m, false), x, false)).toFloatArray();
            Arrays.sort(p);
            return p[(int) (0.9 * p.length)];
        }
    }

    @Test
    void givenASegmenter_whenPurifiedForAttack_thenTheValuesEqualPurifyAndTheSegmenterAddsToTheIdentityGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = TinySac.images(2, 3).batch(m, 0, 2);
            PatchSegmenter seg = TinySac.segmenter(11);
            SegmentAndComplete.Options o = new SegmentAndComplete.Options(percentile90(seg, x), 2, 5, 0.3, 0,
                    SegmentAndComplete.Removal.TELEA, 3);
            try (SegmentAndComplete sac = new SegmentAndComplete("sac:tiny", seg, o)) {
                MaskingPurifier.Masked r = sac.purifyMasked(x, 0);
                float[] mask = r.mask().toFloatArray();
                float[] in = x.toFloatArray();
                float[] out = r.purified().toFloatArray();
                double share = Arrays.stream(toDouble(mask)).sum() / mask.length;
                assertTrue(share > 0 && share < 0.9, "masked share " + share);
                for (int p = 0; p < in.length; p++) {
                    if (mask[p] == 0f) {
                        assertEquals(Float.floatToIntBits(in[p]), Float.floatToIntBits(out[p]), "pixel " + p);
                    }
                }
                NDArray leaf = x.duplicate();
                leaf.setRequiresGradient(true);
                float[] attacked;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray y = sac.purifyForAttack(leaf, 0);
                    attacked = y.toFloatArray();
                    gc.backward(y.sum());
                }
                assertArrayEquals(out, attacked, 0f, "the STE forward is the purification");
                float[] g = leaf.getGradient().toFloatArray();
                double viaSegmenter = 0;
                for (float v : g) {
                    assertTrue(Float.isFinite(v));
                    viaSegmenter = Math.max(viaSegmenter, Math.abs(v - 1));
                }
                // BPDA alone would give d(sum y)/dx = 1 everywhere; the segmenter's path adds to it
                assertTrue(viaSegmenter > 1e-4, "largest departure from the identity " + viaSegmenter);
            }
        }
    }

    @Test
    void givenZeroRemoval_whenPurified_thenMaskedPixelsAreZero() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = TinySac.images(1, 4).batch(m, 0, 1);
            PatchSegmenter seg = TinySac.segmenter(12);
            SegmentAndComplete.Options o = new SegmentAndComplete.Options(percentile90(seg, x), 2, 5, 0.3, 1,
                    SegmentAndComplete.Removal.ZERO, 3);
            try (SegmentAndComplete sac = new SegmentAndComplete("sac:tiny", seg, o)) {
                MaskingPurifier.Masked r = sac.purifyMasked(x, 0);
                float[] mask = r.mask().toFloatArray();
                float[] out = r.purified().toFloatArray();
                int masked = 0;
                for (int p = 0; p < out.length; p++) {
                    if (mask[p] > 0) {
                        masked++;
                        assertEquals(0f, out[p], "pixel " + p);
                    }
                }
                assertTrue(masked > 0);
            }
        }
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
