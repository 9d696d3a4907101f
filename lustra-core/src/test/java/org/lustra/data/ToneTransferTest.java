package org.lustra.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ToneTransferTest {
    private static final double EPS = ToneTransfer.EPSILON;

    /** An RGB image (3·H·W) whose channel c lies in [lo[c], lo[c] + 0.2]. */
    private static float[] rgb(long seed, int pixels, double[] lo) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[3 * pixels];
        for (int c = 0; c < 3; c++) {
            for (int p = 0; p < pixels; p++) {
                x[c * pixels + p] = (float) (lo[c] + 0.2 * r.nextDouble());
            }
        }
        return x;
    }

    @Test
    void rgbTransferGivesTheSourceTheTargetsLabStatistics() {
        // given a bluish source and a reddish target of another size, both well inside (0, 1)
        float[] source = rgb(1, 36, new double[] {0.25, 0.3, 0.45});
        float[] target = rgb(2, 25, new double[] {0.5, 0.35, 0.3});
        ToneTransfer.Stats before = ToneTransfer.stats(ToneTransfer.toLab(source));
        ToneTransfer.Stats want = ToneTransfer.stats(ToneTransfer.toLab(target));
        assertTrue(Math.abs(before.mean()[1] - want.mean()[1]) > 0.02, "the test needs different colours");

        // when the source is recoloured like the target
        float[] out = ToneTransfer.reinhardRgb(source, target);

        // then no pixel was clipped (clipping would break the match) and lαβ means and deviations are the target's
        for (float v : out) {
            assertTrue(v > 0 && v < 1, "clipped pixel " + v);
        }
        ToneTransfer.Stats got = ToneTransfer.stats(ToneTransfer.toLab(out));
        assertArrayEquals(want.mean(), got.mean(), 1e-5);
        assertArrayEquals(want.std(), got.std(), 1e-5);
    }

    @Test
    void labRoundTripIsTheIdentity() {
        // given an RGB image, when it goes to lαβ and back, then it is unchanged (exact inverse matrix, not the rounded one)
        float[] x = rgb(3, 16, new double[] {0.0, 0.4, 0.8});
        assertArrayEquals(x, ToneTransfer.fromLab(ToneTransfer.toLab(x)), 1e-6f);
    }

    @Test
    void grayscaleTransferEqualsItsClosedForm() {
        // given a 2x2 source and target
        float[] source = {0f, 0.2f, 0.5f, 1f};
        float[] target = {0.1f, 0.3f, 0.3f, 0.8f};

        // when transferred
        float[] out = ToneTransfer.reinhardGray(source, target);

        // then it is gain·(I + ε)^γ − ε with γ = σ_t/σ_s and gain = exp(μ_t − γ μ_s) of ln(I + ε); by hand (Python,
        // double precision): γ = 0.33705226, gain = 0.57248800
        double gamma = 0.3370522604028395;
        double gain = 0.572488000476477;
        float[] closed = new float[4];
        for (int p = 0; p < 4; p++) {
            closed[p] = (float) (gain * Math.pow(source[p] + EPS, gamma) - EPS);
        }
        assertArrayEquals(closed, out, 1e-6f);
        assertArrayEquals(new float[] {0.08451596f, 0.33105882f, 0.45048766f, 0.56932215f}, out, 1e-6f);
    }

    @Test
    void grayscaleTransferIsClippedToTheUnitRange() {
        // given a dark, spread-out source and a bright target
        float[] source = {0f, 0.05f, 0.6f, 0.9f};
        float[] target = {0.9f, 0.95f, 1f, 1f};

        // when transferred, then every value lies in [0, 1] and the brightest reaches 1 exactly (clipped, not above)
        float[] out = ToneTransfer.reinhardGray(source, target);
        for (float v : out) {
            assertTrue(v >= 0 && v <= 1, "value " + v);
        }
        assertEquals(1f, out[3]);
    }

    @Test
    void flatSourceIsOnlyShifted() {
        // given a constant source (σ_s = 0: no gain could give it the target's spread)
        float[] source = {0.2f, 0.2f, 0.2f, 0.2f};
        float[] target = {0.1f, 0.3f, 0.3f, 0.8f};
        // when transferred, then it is constant at exp(μ_t) − ε
        double mu = 0;
        for (float t : target) {
            mu += Math.log(t + EPS) / 4;
        }
        for (float v : ToneTransfer.reinhardGray(source, target)) {
            assertEquals(Math.exp(mu) - EPS, v, 1e-6);
        }
    }

    @Test
    void batchFormTransfersEachImageOntoItsOwnTarget() {
        // given two RGB source images and two targets as (N, C, H, W) tensors
        float[] s0 = rgb(4, 9, new double[] {0.2, 0.2, 0.2});
        float[] s1 = rgb(5, 9, new double[] {0.4, 0.3, 0.2});
        float[] t0 = rgb(6, 9, new double[] {0.5, 0.3, 0.3});
        float[] t1 = rgb(7, 9, new double[] {0.1, 0.5, 0.3});
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray src = m.create(concat(s0, s1), new Shape(2, 3, 3, 3));
            NDArray tgt = m.create(concat(t0, t1), new Shape(2, 3, 3, 3));
            // when the batch is transferred
            NDArray out = ToneTransfer.transfer(src, tgt);
            // then it is the per-image transfer, in the source's shape
            assertEquals(src.getShape(), out.getShape());
            assertArrayEquals(concat(ToneTransfer.reinhardRgb(s0, t0), ToneTransfer.reinhardRgb(s1, t1)),
                    out.toFloatArray(), 0f);
        }
    }

    @Test
    void otherChannelCountsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ToneTransfer.transfer(new float[8], new float[8], 2));
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = new float[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
