package org.lustra.defense.hetero;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.model.NetClassifier;

/** The attention mask on hand-made activation stacks (values computed by hand) and on tiny real classifiers. */
class AttentionMaskTest {

    private static final AttentionMask.Options MINMAX = AttentionMask.Options.defaults();

    /** One image, two channels of 2×2: |A| = [[1, 2], [0, 3]] and [[2, 0], [0, 4]]. */
    private static NDArray twoChannels(NDManager m) {
        return m.create(new float[] {1, -2, 0, 3, 2, 0, 0, -4}, new Shape(1, 2, 2, 2));
    }

    @Test
    void givenTwoChannels_whenNormWithRoot_thenItIsThePNormOverChannels() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] p2 = AttentionMask.channelNorm(twoChannels(m), MINMAX.withNorm(2, true)).toFloatArray();
            assertArrayEquals(new float[] {(float) Math.sqrt(5), 2, 0, 5}, p2, 1e-6f);
            float[] p1 = AttentionMask.channelNorm(twoChannels(m), MINMAX.withNorm(1, true)).toFloatArray();
            assertArrayEquals(new float[] {3, 2, 0, 7}, p1, 1e-6f);
            float[] p3 = AttentionMask.channelNorm(twoChannels(m), MINMAX.withNorm(3, true)).toFloatArray();
            assertArrayEquals(new float[] {(float) Math.cbrt(9), 2, 0, (float) Math.cbrt(91)}, p3, 1e-5f);
        }
    }

    @Test
    void givenTwoChannels_whenNormWithoutRoot_thenItIsTheSumOfSquares() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] g = AttentionMask.channelNorm(twoChannels(m), MINMAX.withNorm(2, false)).toFloatArray();
            assertArrayEquals(new float[] {5, 4, 0, 25}, g, 1e-6f);
        }
    }

    /**
     * Stage 0 (4×4) is hot at pixel (0, 0) only; stage 1 (2×2) at its (1, 1) only. Bilinear up-sampling of stage 1 to
     * 4×4 (PyTorch's align_corners = false) gives the outer product of [0, ¼, ¾, 1] with itself; min-max leaves it;
     * τ = 0.5 keeps (2,2) = 0.5625, (2,3) = (3,2) = 0.75, (3,3) = 1. The union adds (0, 0).
     */
    @Test
    void givenHandMadeStages_whenMinMaxAndValueThreshold_thenMaskIsTheUnionOfStages() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] s0 = new float[16];
            s0[0] = 3f;
            NDArray a0 = m.create(s0, new Shape(1, 1, 4, 4));
            NDArray a1 = m.create(new float[] {0, 0, 0, 2}, new Shape(1, 1, 2, 2));
            AttentionMask.Options o = MINMAX.withNorm(1, true).withValueThreshold(0.5);
            List<NDArray> maps = AttentionMask.stageMaps(List.of(a0, a1), o, 4, 4);
            float[] w = {0, 0.25f, 0.75f, 1};
            float[] up = new float[16];
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 4; x++) {
                    up[y * 4 + x] = w[y] * w[x];
                }
            }
            assertArrayEquals(up, maps.get(1).toFloatArray(), 1e-6f, "bilinear up-sampling, align_corners = false");
            float[] expected = new float[16];
            expected[0] = 1;
            expected[10] = 1;
            expected[11] = 1;
            expected[14] = 1;
            expected[15] = 1;
            assertArrayEquals(expected, AttentionMask.mask(maps, o).toFloatArray());
            assertEquals(new Shape(1, 1, 4, 4), AttentionMask.mask(maps, o).getShape());
        }
    }

    @Test
    void givenOneStageChosen_whenMasked_thenTheOtherStageIsLeftOut() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] s0 = new float[16];
            s0[0] = 3f;
            NDArray a0 = m.create(s0, new Shape(1, 1, 4, 4));
            NDArray a1 = m.create(new float[] {0, 0, 0, 2}, new Shape(1, 1, 2, 2));
            AttentionMask.Options o = MINMAX.withNorm(1, true).withValueThreshold(0.5).withStages(List.of(0));
            float[] expected = new float[16];
            expected[0] = 1;
            assertArrayEquals(expected, AttentionMask.mask(AttentionMask.stageMaps(List.of(a0, a1), o, 4, 4), o)
                    .toFloatArray());
        }
    }

    @Test
    void givenSoftmaxNormalization_whenMapped_thenEachImageSumsToOneAndKeepsTheOrder() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new float[] {0, 1, 2, 3, 3, 2, 1, 0}, new Shape(2, 1, 2, 2));
            AttentionMask.Options o = MINMAX.withNorm(1, true).withNormalization(AttentionMask.Normalization.SOFTMAX);
            float[] v = AttentionMask.stageMaps(List.of(a), o, 2, 2).get(0).toFloatArray();
            double z = 1 + Math.E + Math.exp(2) + Math.exp(3);
            assertArrayEquals(new float[] {(float) (1 / z), (float) (Math.E / z), (float) (Math.exp(2) / z),
                (float) (Math.exp(3) / z)}, java.util.Arrays.copyOfRange(v, 0, 4), 1e-6f);
            assertEquals(1.0, v[4] + v[5] + v[6] + v[7], 1e-6);
        }
    }

    @Test
    void givenDistinctValues_whenTopFraction_thenExactlyThatShareOfPixelsIsMasked() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] v = new float[16];
            for (int i = 0; i < 16; i++) {
                v[i] = (i * 7) % 16; // a permutation of 0..15
            }
            NDArray map = m.create(v, new Shape(1, 1, 4, 4));
            float[] mask = AttentionMask.topFraction(map, 0.25).toFloatArray();
            for (int i = 0; i < 16; i++) {
                assertEquals(v[i] >= 12 ? 1f : 0f, mask[i], "pixel " + i);
            }
        }
    }

    @Test
    void givenAConstantMap_whenMinMax_thenNothingIsAttended() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.full(new Shape(1, 3, 2, 2), 2f);
            AttentionMask.Options o = MINMAX.withValueThreshold(0.0);
            float[] mask = AttentionMask.mask(AttentionMask.stageMaps(List.of(a), o, 2, 2), o).toFloatArray();
            assertArrayEquals(new float[4], mask);
        }
    }

    /** Five tokens of dimension 2 = a class token (huge) + a 2×2 grid; the class token must not reach the map. */
    @Test
    void givenTokensWithAClassToken_whenFolded_thenTheGridIsKeptAndTheClassTokenDropped() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray tokens = m.create(new float[] {100, 100, 1, 0, 0, 2, 3, 0, 0, 4}, new Shape(1, 5, 2));
            float[] g = AttentionMask.channelNorm(AttentionMask.asFeatureMap(tokens), MINMAX.withNorm(1, true))
                    .toFloatArray();
            assertArrayEquals(new float[] {1, 2, 3, 4}, g, 1e-6f);
            NDArray square = m.create(new float[] {1, 0, 0, 2, 3, 0, 0, 4}, new Shape(1, 4, 2));
            assertArrayEquals(new float[] {1, 2, 3, 4}, AttentionMask.channelNorm(AttentionMask.asFeatureMap(square),
                    MINMAX.withNorm(1, true)).toFloatArray(), 1e-6f);
            assertThrows(IllegalArgumentException.class, () -> AttentionMask.asFeatureMap(m.zeros(new Shape(1, 7,
                    2))));
        }
    }

    @Test
    void givenInvalidOptions_whenConstructed_thenTheMessageNamesTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MINMAX.withTopFraction(1.5));
        assertTrue(e.getMessage().contains("1.5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MINMAX.withNorm(0.5, true));
        assertThrows(IllegalArgumentException.class, () -> MINMAX.withStages(List.of(1, 1)));
    }

    @Test
    void givenAStageBeyondTheClassifier_whenMapped_thenIllegalArgument() {
        try (NDManager m = NDManager.newBaseManager()) {
            AttentionMask.Options o = MINMAX.withStages(List.of(2));
            assertThrows(IllegalArgumentException.class,
                    () -> AttentionMask.stageMaps(List.of(m.ones(new Shape(1, 1, 2, 2))), o, 2, 2));
        }
    }

    @Test
    void givenTinyResNetAndVit_whenTheirAttentionIsTaken_thenTheMaskIsBinaryImageSizedAndDetached() {
        try (NDManager base = NDManager.newBaseManager()) {
            for (NetClassifier c : List.of(TinyHetero.resnet(base, 1), TinyHetero.vit(base, 2))) {
                NDArray x = base.randomUniform(0, 1, new Shape(2, 1, 8, 8));
                x.setRequiresGradient(true);
                AttentionMask.Options o = MINMAX.withTopFraction(0.25);
                AttentionMask.Attention a = AttentionMask.of(c, x, o);
                assertEquals(new Shape(2, 1, 8, 8), a.mask().getShape());
                assertEquals(new Shape(2, 1, 8, 8), a.map().getShape());
                assertTrue(!a.mask().hasGradient() && !a.map().hasGradient(), "detached");
                float[] v = a.mask().toFloatArray();
                for (int i = 0; i < 2; i++) {
                    int on = 0;
                    for (int j = 0; j < 64; j++) {
                        assertTrue(v[i * 64 + j] == 0f || v[i * 64 + j] == 1f);
                        on += (int) v[i * 64 + j];
                    }
                    // the union of two stages' top 16 pixels
                    assertTrue(on >= 16 && on <= 32, c.name() + " image " + i + ": " + on + " pixels");
                }
                c.close();
            }
        }
    }
}
