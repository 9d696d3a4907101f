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

    /** A tiny SAC whose τ is at the 90th percentile of its segmenter's probabilities on x, with one pixel of margin. */
    static SegmentAndComplete tiny(NDArray x, long seed) {
        PatchSegmenter seg = TinySac.segmenter(seed);
        return new SegmentAndComplete("sac:tiny", seg, new SegmentAndComplete.Options(percentile90(seg, x), 2, 5, 0.3,
                1, SegmentAndComplete.Removal.TELEA, 3));
    }

    @Test
    void givenASegmenter_whenItsDetectionIsAsked_thenItIsTheMaskPurifyReplaces() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = TinySac.images(3, 5).batch(m, 0, 3);
            try (SegmentAndComplete sac = tiny(x, 13)) {
                float[] replaced = sac.purifyMasked(x, 7).mask().toFloatArray();
                float[] detected = sac.detection(x, 7).toFloatArray();
                assertTrue(Arrays.stream(toDouble(replaced)).sum() > 0, "something is masked");
                assertArrayEquals(replaced, detected, 0f);
            }
        }
    }

    @Test
    void givenASegmenter_whenItsSoftDetectionIsDifferentiated_thenTheInputGradientIsFiniteAndNonZero() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = TinySac.images(2, 6).batch(m, 0, 2);
            try (SegmentAndComplete sac = tiny(x, 14)) {
                NDArray leaf = x.duplicate();
                leaf.setRequiresGradient(true);
                float[] soft;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray d = sac.softDetection(leaf, 0);
                    soft = d.toFloatArray();
                    gc.backward(d.sum());
                }
                for (float v : soft) {
                    assertTrue(v >= 0f && v <= 1f, "a probability: " + v);
                }
                double largest = 0;
                for (float v : leaf.getGradient().toFloatArray()) {
                    assertTrue(Float.isFinite(v));
                    largest = Math.max(largest, Math.abs(v));
                }
                assertTrue(largest > 1e-4, "largest |∂D/∂x| " + largest);
            }
        }
    }

    @Test
    void givenASegmenter_whenTheMaskedSurrogateIsDifferentiated_thenItIsPurifyWithTheMaskRouteAndNoIdentityInside() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = TinySac.images(2, 8).batch(m, 0, 2);
            try (SegmentAndComplete sac = tiny(x, 15)) {
                MaskingPurifier.Masked r = sac.purifyMasked(x, 0);
                float[] mask = r.mask().toFloatArray();
                NDArray leaf = x.duplicate();
                leaf.setRequiresGradient(true);
                float[] out;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray y = sac.purifyMaskedSurrogate(leaf, 0);
                    out = y.toFloatArray();
                    gc.backward(y.sum());
                }
                assertArrayEquals(r.purified().toFloatArray(), out, 0f, "the surrogate's forward is the purification");
                float[] g = leaf.getGradient().toFloatArray();
                // expected: d(Σ out)/dx = (1 − M) + ∇ Σ sg(R − x)·P, the second term through the segmenter alone
                NDArray leaf2 = x.duplicate();
                leaf2.setRequiresGradient(true);
                NDArray gap = r.purified().sub(x).sum(new int[] {1}, true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(sac.softDetection(leaf2, 0).mul(gap).sum());
                }
                float[] viaMask = leaf2.getGradient().toFloatArray();
                for (int p = 0; p < g.length; p++) {
                    assertEquals(1 - mask[p] + viaMask[p], g[p], 1e-4, "pixel " + p + " (mask " + mask[p] + ")");
                }
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
