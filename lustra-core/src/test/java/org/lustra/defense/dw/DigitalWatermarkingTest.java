package org.lustra.defense.dw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.GradientMode;
import org.lustra.defense.MaskingPurifier;
import org.lustra.model.Classifier;

/**
 * Digital Watermarking on a hand-made linear classifier whose saliency |w| is known: high on a 6×6 square (where a
 * patch would sit), low and slightly uneven elsewhere, with one isolated high-saliency pixel.
 */
class DigitalWatermarkingTest {
    private static final int S = 28;
    private static final int FROM = 11;
    private static final int SIZE = 6;

    private static boolean inSquare(int y, int x, int grow) {
        return y >= FROM - grow && y < FROM + SIZE + grow && x >= FROM - grow && x < FROM + SIZE + grow;
    }

    /** Saliency weights: 1 on the square and at one isolated pixel, 0.05..0.07 elsewhere (so the map has spread). */
    private static float[] squareWeights() {
        float[] w = new float[S * S];
        for (int y = 0; y < S; y++) {
            for (int x = 0; x < S; x++) {
                w[y * S + x] = inSquare(y, x, 0) ? 1f : 0.05f + 0.005f * ((7 * x + 3 * y) % 5);
            }
        }
        w[3 * S + 22] = 1f; // an isolated spike: dropped by smoothing and the opening
        return w;
    }

    /** Two classes with logits (w·x, −w·x): the saliency of either class is |w|. */
    static Classifier linear(NDManager m, float[] w) {
        float[] both = new float[w.length * 2];
        for (int i = 0; i < w.length; i++) {
            both[2 * i] = w[i];
            both[2 * i + 1] = -w[i];
        }
        NDArray weight = m.create(both, new Shape(w.length, 2));
        return new Classifier() {
            public String name() {
                return "linear";
            }

            public int channels() {
                return 1;
            }

            public int size() {
                return S;
            }

            public List<String> classNames() {
                return List.of("a", "b");
            }

            public Output forward(NDArray x) {
                return new Output(x.reshape(x.getShape().get(0), (long) S * S).matMul(weight), List.of());
            }

            public void close() {}
        };
    }

    /** A flat grey image with a bright square where the saliency is high. */
    private static float[] brightSquareImage() {
        float[] img = new float[S * S];
        for (int y = 0; y < S; y++) {
            for (int x = 0; x < S; x++) {
                img[y * S + x] = inSquare(y, x, 0) ? 1f : 0.3f;
            }
        }
        return img;
    }

    private static DigitalWatermarking dw(Classifier c) {
        return new DigitalWatermarking(c, DigitalWatermarking.Options.defaults(), Inpainter.telea(3));
    }

    @Test
    void givenAHighSaliencySquare_whenPurified_thenTheMaskCoversTheSquareAndAtMostAOnePixelRing() {
        try (NDManager m = NDManager.newBaseManager()) {
            DigitalWatermarking d = dw(linear(m, squareWeights()));
            NDArray x = m.create(brightSquareImage(), new Shape(1, 1, S, S));
            float[] mask = d.purifyMasked(x, 0).mask().toFloatArray();
            for (int y = 0; y < S; y++) {
                for (int x0 = 0; x0 < S; x0++) {
                    float v = mask[y * S + x0];
                    if (inSquare(y, x0, 0)) {
                        assertEquals(1f, v, "square pixel " + y + "," + x0 + " masked");
                    } else if (!inSquare(y, x0, 1)) {
                        assertEquals(0f, v, "pixel " + y + "," + x0 + " far from the square left alone");
                    }
                }
            }
            assertEquals(0f, mask[3 * S + 22], "the isolated spike is not masked");
        }
    }

    @Test
    void givenABrightSquareOnAFlatBackground_whenPurified_thenTheSquareIsRepaintedAndTheRestIsUntouched() {
        try (NDManager m = NDManager.newBaseManager()) {
            DigitalWatermarking d = dw(linear(m, squareWeights()));
            float[] img = brightSquareImage();
            MaskingPurifier.Masked r = d.purifyMasked(m.create(img, new Shape(1, 1, S, S)), 0);
            float[] out = r.purified().toFloatArray();
            float[] mask = r.mask().toFloatArray();
            for (int p = 0; p < S * S; p++) {
                if (mask[p] == 0f) {
                    assertEquals(Float.floatToIntBits(img[p]), Float.floatToIntBits(out[p]), "unmasked pixel " + p);
                } else {
                    assertEquals(0.3f, out[p], 1e-5f, "repainted pixel " + p + " takes the flat background");
                }
            }
            assertArrayEquals(out, d.purify(m.create(img, new Shape(1, 1, S, S)), 7).toFloatArray(), 0f,
                    "Telea DW is deterministic: purify equals purifyMasked, whatever the seed");
        }
    }

    @Test
    void givenSaliencyWithNoSpread_whenPurified_thenNothingIsMaskedAndTheImageIsUnchanged() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] flat = new float[S * S];
            java.util.Arrays.fill(flat, 0.5f);
            DigitalWatermarking d = dw(linear(m, flat));
            float[] img = brightSquareImage();
            MaskingPurifier.Masked r = d.purifyMasked(m.create(img, new Shape(1, 1, S, S)), 0);
            assertEquals(0f, r.mask().sum().getFloat());
            assertArrayEquals(img, r.purified().toFloatArray(), 0f);
        }
    }

    @Test
    void givenAnAttackCollectorIsOpen_whenDwIsAttackedWithBpda_thenTheGradientIsTheClassifiersAtThePurifiedPoint() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] w = squareWeights();
            DigitalWatermarking d = dw(linear(m, w));
            assertEquals(Set.of(GradientMode.BPDA), d.gradientModes());
            assertFalse(d.randomized());
            DefendedClassifier defended = new DefendedClassifier(d, linear(m, w));
            // loss = logit of class 0 = w·purify(x); BPDA: d/dx = w. DW's saliency needs its own backward pass inside
            // the attack's gradient collector, which DJL would refuse to nest.
            NDArray x = m.create(brightSquareImage(), new Shape(1, 1, S, S));
            DefendedClassifier.LossGradient lg = defended.lossGradient(x, GradientMode.BPDA, 0,
                    z -> z.get(":, 0"));
            assertArrayEquals(w, lg.gradient().toFloatArray(), 1e-6f);
            float[] purified = d.purify(x, 0).toFloatArray();
            double expected = 0;
            for (int i = 0; i < w.length; i++) {
                expected += w[i] * purified[i];
            }
            assertEquals(expected, lg.loss().getFloat(0), 1e-3, "the loss is taken at the purified image");
        }
    }
}
