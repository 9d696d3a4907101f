package org.lustra.defense.jedi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lustra.defense.MaskingPurifier;

class JediTest {
    static final int H = 32;
    static final int W = 32;
    static final int TOP = 10;
    static final int LEFT = 12;
    static final int SIDE = 8;
    /** 5×5 windows, 16 bins, θ = 0.7, one opening and closing, no margin, Telea radius 3. */
    static final Jedi.Options OPTIONS = new Jedi.Options(2, 16, 0.7, 1, 1, 0, 3, 0.5);

    /** A flat grey 32×32 image with an 8×8 square of uniform noise at (10, 12). */
    static float[] noiseSquare(long seed) {
        float[] img = new float[H * W];
        java.util.Arrays.fill(img, 0.5f);
        SplittableRandom r = new SplittableRandom(seed);
        for (int y = TOP; y < TOP + SIDE; y++) {
            for (int x = LEFT; x < LEFT + SIDE; x++) {
                img[y * W + x] = (float) r.nextDouble();
            }
        }
        return img;
    }

    static boolean inSquare(int p, int margin) {
        int y = p / W;
        int x = p % W;
        return y >= TOP - margin && y < TOP + SIDE + margin && x >= LEFT - margin && x < LEFT + SIDE + margin;
    }

    @Test
    void givenAFlatImageWithANoiseSquare_whenItsEntropyMapIsComputed_thenFlatWindowsAreZeroAndTheSquareIsHigh() {
        float[] bits = EntropyMap.compute(noiseSquare(1), H, W, 2, 16);
        for (int p = 0; p < H * W; p++) {
            if (!inSquare(p, 2)) {
                assertEquals(0.0, bits[p], 0.0, "a window of one grey level has no entropy, pixel " + p);
            }
        }
        int centre = (TOP + SIDE / 2) * W + LEFT + SIDE / 2;
        assertTrue(bits[centre] > 0.8 * EntropyMap.maxBits(2, 16), "noise window: " + bits[centre] + " bits of "
                + EntropyMap.maxBits(2, 16));
    }

    @Test
    void givenAWindowSplitTenToFifteenBetweenTwoLevels_whenItsEntropyIsComputed_thenItIsTheHandComputedValue() {
        float[] img = new float[9 * 9];
        for (int p = 0; p < img.length; p++) {
            img[p] = p % 9 < 4 ? 0f : 1f; // columns 0..3 black, 4..8 white
        }
        // the window around (4, 4) spans columns 2..6: 2 black, 3 white columns → p = (0.4, 0.6)
        double expected = 0.4 * Math.log(1 / 0.4) / Math.log(2) + 0.6 * Math.log(1 / 0.6) / Math.log(2);
        assertEquals(expected, EntropyMap.compute(img, 9, 9, 2, 16)[4 * 9 + 4], 1e-6);
    }

    @Test
    void givenANoiseSquareOnAFlatImage_whenJediPurifies_thenTheSquareIsMaskedAndEveryOtherPixelIsBitIdentical() {
        float[] img = noiseSquare(2);
        Jedi jedi = new Jedi(OPTIONS);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(img, new Shape(1, 1, H, W));
            MaskingPurifier.Masked r = jedi.purifyMasked(x, 0);
            float[] mask = r.mask().toFloatArray();
            float[] out = r.purified().toFloatArray();
            for (int p = 0; p < H * W; p++) {
                if (inSquare(p, 0)) {
                    assertEquals(1f, mask[p], "square pixel " + p + " is masked");
                    assertEquals(0.5f, out[p], 0.05f, "the fill comes from the flat surroundings, pixel " + p);
                }
                if (!inSquare(p, 2)) {
                    assertEquals(0f, mask[p], "pixel " + p + " is more than the window radius away");
                }
                if (mask[p] == 0f) {
                    assertEquals(Float.floatToIntBits(img[p]), Float.floatToIntBits(out[p]), "unmasked pixel " + p);
                }
            }
            assertArrayEquals(out, jedi.purify(x, 9).toFloatArray(), 0f, "deterministic, seed unused");
        }
    }

    @Test
    void givenASmoothCleanImage_whenJediPurifies_thenNothingIsMaskedAndTheImageComesBackUnchanged() {
        float[] img = new float[H * W];
        for (int p = 0; p < img.length; p++) {
            img[p] = (p / W) / (float) H; // a vertical ramp: at most 2 bins per 5×5 window
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(img, new Shape(1, 1, H, W));
            MaskingPurifier.Masked r = new Jedi(OPTIONS).purifyMasked(x, 0);
            assertEquals(0f, r.mask().sum().getFloat());
            assertArrayEquals(img, r.purified().toFloatArray(), 0f);
        }
    }

    @Test
    void givenJediSpecs_whenParsed_thenOptionsLandInTheirFields() {
        assertEquals(Jedi.Options.defaults(), Jedi.Options.parse());
        assertEquals(new Jedi.Options(3, 32, 0.7, 0, 2, 1, 5, 0.3),
                Jedi.Options.parse("r3:bins32:theta0.7:open0:close2:dilate1:telea5:tau0.3".split(":")));
    }
}
