package org.lustra.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MaskedAutoencoderTest {
    static final MaskedAutoencoder.Config TINY = new MaskedAutoencoder.Config(2, 4, 2, 8, 1, 2, 16, 8, 1, 2);

    static float[] ramp(int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = i;
        }
        return f;
    }

    @Test
    void givenAMultiChannelImage_whenPatchifiedAndUnpatchified_thenItComesBackExactly() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(ramp(2 * 3 * 6 * 4), new Shape(2, 3, 6, 4));
            NDArray tokens = MaskedAutoencoder.patchify(x, 2);
            assertEquals(new Shape(2, 6, 12), tokens.getShape());
            assertArrayEquals(x.toFloatArray(), MaskedAutoencoder.unpatchify(tokens, 3, 6, 4, 2).toFloatArray(), 0f);
        }
    }

    @Test
    void givenAnImage_whenPatchified_thenEachTokenHoldsItsPatchChannelMajorThenRowMajor() {
        try (NDManager m = NDManager.newBaseManager()) {
            // (1, 2, 4, 4): value = 100·c + 4·y + x
            float[] v = new float[32];
            for (int c = 0; c < 2; c++) {
                for (int y = 0; y < 4; y++) {
                    for (int x = 0; x < 4; x++) {
                        v[c * 16 + y * 4 + x] = 100 * c + 4 * y + x;
                    }
                }
            }
            NDArray tokens = MaskedAutoencoder.patchify(m.create(v, new Shape(1, 2, 4, 4)), 2);
            // patch 1 = row 0, column 1: pixels (y, x) in {0,1} × {2,3}
            assertArrayEquals(new float[] {2, 3, 6, 7, 102, 103, 106, 107}, tokens.get("0, 1, :").toFloatArray(), 0f);
            // patch 2 = row 1, column 0
            assertArrayEquals(new float[] {8, 9, 12, 13, 108, 109, 112, 113}, tokens.get("0, 2, :").toFloatArray(),
                    0f);
        }
    }

    @Test
    void givenARatio_whenPatchesAreMaskedAtRandom_thenEveryImageHidesExactlyRoundRatioTimesL() {
        SplittableRandom rng = new SplittableRandom(3);
        for (double ratio : new double[] {0, 0.25, 0.5, 0.75, 0.3}) {
            PatchMask mask = PatchMask.random(7, 196, ratio, rng);
            int expected = (int) Math.round(ratio * 196);
            assertEquals(expected, mask.maskedCount());
            for (int i = 0; i < 7; i++) {
                int hidden = 0;
                for (int j = 0; j < 196; j++) {
                    hidden += mask.masked(i, j) ? 1 : 0;
                }
                assertEquals(expected, hidden, "image " + i + " at ratio " + ratio);
            }
        }
        PatchMask half = PatchMask.random(2, 16, 0.5, new SplittableRandom(1));
        assertNotEquals(rowOf(half, 0), rowOf(half, 1), "images draw their own subsets");
        assertThrows(IllegalArgumentException.class, () -> PatchMask.random(1, 16, 1.0, rng));
    }

    private static String rowOf(PatchMask mask, int i) {
        StringBuilder b = new StringBuilder();
        for (int j = 0; j < mask.patches(); j++) {
            b.append(mask.masked(i, j) ? '1' : '0');
        }
        return b.toString();
    }

    @Test
    void givenAMask_whenTokensAreSelectedAndPutBack_thenVisibleOnesKeepTheirOrderAndHiddenOnesAreZero() {
        try (NDManager m = NDManager.newBaseManager()) {
            PatchMask mask = PatchMask.of(new boolean[][] {{true, false, false, true}, {false, true, true, false}});
            NDArray tokens = m.create(ramp(8), new Shape(2, 4, 1)); // token j of image i holds 4i + j
            NDArray s = mask.selection(m);
            assertArrayEquals(new float[] {1, 2, 4, 7}, s.matMul(tokens).toFloatArray(), 0f);
            assertArrayEquals(new float[] {0, 1, 2, 0, 4, 0, 0, 7},
                    s.transpose(0, 2, 1).matMul(s.matMul(tokens)).toFloatArray(), 0f);
            // pixel map of 4 patches of 2×2 on a 4×4 image: patch 0 = top-left
            float[] px = mask.pixelMask(m, 4, 4, 2).toFloatArray();
            assertArrayEquals(new float[] {1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1},
                    java.util.Arrays.copyOfRange(px, 0, 16), 0f);
        }
    }

    @Test
    void givenAMaskedInput_whenReconstructed_thenHiddenPixelsDoNotReachTheOutputAndShapesMatch() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(4);
            MaskedAutoencoder net = new MaskedAutoencoder(TINY);
            net.initialize(m, DataType.FLOAT32, new Shape(1, 2, 4, 4));
            ParameterStore ps = new ParameterStore(m, false);
            PatchMask mask = PatchMask.of(new boolean[][] {{false, true, false, true}});
            NDArray x = m.create(ramp(32), new Shape(1, 2, 4, 4)).div(32f);
            // change only pixels of the hidden patches 1 (top-right) and 3 (bottom-right)
            NDArray changed = x.duplicate();
            changed.set(new ai.djl.ndarray.index.NDIndex(":, :, :, 2:4"), 0.9f);
            NDArray a = net.reconstruct(ps, x, mask, false);
            NDArray b = net.reconstruct(ps, changed, mask, false);
            assertEquals(new Shape(1, 2, 4, 4), a.getShape());
            assertArrayEquals(a.toFloatArray(), b.toFloatArray(), 0f);
            NDArray full = net.reconstruct(ps, changed, null, false);
            assertEquals(new Shape(1, 2, 4, 4), full.getShape());
            assertNotEquals(0f, full.sub(net.reconstruct(ps, x, null, false)).abs().sum().getFloat(),
                    "without a mask every pixel reaches the output");
        }
    }
}
