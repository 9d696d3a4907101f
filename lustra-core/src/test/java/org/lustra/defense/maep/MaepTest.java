package org.lustra.defense.maep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lustra.defense.GradientMode;
import org.lustra.defense.learned.LearnedPurifier;
import org.lustra.defense.learned.PurifierNetwork;
import org.lustra.defense.learned.TinyPurifiers;
import org.lustra.nn.PatchMask;

class MaepTest {

    @Test
    void givenAHandMadeCase_whenTheLossIsSplit_thenVisibleAndHiddenPartsAreTheirShareOfTheMeanL1() {
        try (NDManager m = NDManager.newBaseManager()) {
            // one 1×2×2 image: errors |out − clean| = 0.1, 0.2, 0.3, 0.4; the right column (0.2, 0.4) is hidden
            NDArray out = m.create(new float[] {0.6f, 0.3f, 0.0f, 1.0f}, new Shape(1, 1, 2, 2));
            NDArray clean = m.create(new float[] {0.5f, 0.5f, 0.3f, 0.6f}, new Shape(1, 1, 2, 2));
            NDArray mask = m.create(new float[] {0, 1, 0, 1}, new Shape(1, 1, 2, 2));
            PurifierNetwork.Loss loss = MaepNetwork.split(out, clean, mask);
            assertEquals((0.1 + 0.3) / 4, loss.parts().get("visible").getFloat(), 1e-6);
            assertEquals((0.2 + 0.4) / 4, loss.parts().get("hidden").getFloat(), 1e-6);
            assertEquals(1.0 / 4, loss.total().getFloat(), 1e-6);
        }
    }

    @Test
    void givenATrainingBatch_whenTheLossIsComputed_thenTheMaskHidesHalfThePatchesOfEveryImage() {
        try (NDManager m = NDManager.newBaseManager()) {
            MaepNetwork net = MaepNetwork.create(TinyPurifiers.MAEP, m.newSubManager(), 1);
            NDArray x = TinyPurifiers.images(4, 1).batch(m, 0, 4);
            // replay the loss's draw: the pixel share of the hidden part follows from exactly 8 of 16 patches hidden
            PatchMask mask = PatchMask.random(4, 16, 0.5, new SplittableRandom(9));
            assertEquals(8, mask.maskedCount());
            PurifierNetwork.Loss loss = net.loss(new ParameterStore(m, false), x, x, new SplittableRandom(9));
            NDArray out = net.autoencoder().reconstruct(new ParameterStore(m, false), x, mask, false);
            NDArray pixels = mask.pixelMask(m, 8, 8, 2);
            float[] hiddenPerImage = pixels.sum(new int[] {1, 2, 3}).toFloatArray();
            for (int i = 0; i < 4; i++) {
                assertEquals(32f, hiddenPerImage[i], "image " + i + ": 8 of 16 2×2 patches = 32 of 64 pixels hidden");
            }
            PurifierNetwork.Loss expected = MaepNetwork.split(out, x, pixels);
            assertEquals(expected.parts().get("hidden").getFloat(), loss.parts().get("hidden").getFloat(), 1e-6);
            assertEquals(expected.parts().get("visible").getFloat(), loss.parts().get("visible").getFloat(), 1e-6);
            net.close();
        }
    }

    @Test
    void givenATinyMaep_whenTrainedOnEightPairsFor30Steps_thenTheLossFallsThreefold() {
        // measured: 0.385 -> 0.0995 (3.9x); the floor is the hidden patches' unpredictable background noise
        try (NDManager m = NDManager.newBaseManager()) {
            MaepNetwork net = MaepNetwork.create(TinyPurifiers.MAEP, m.newSubManager(), 2);
            double[] losses = TinyPurifiers.overfit(net, m, 30, 3e-3f);
            double first = losses[0];
            double last = losses[losses.length - 1];
            assertTrue(last < first / 3, "loss " + first + " -> " + last);
            net.close();
        }
    }

    @Test
    void givenATinyMaepPurifier_whenDifferentiatedExactly_thenTheGradientMatchesCentralDifferences() {
        try (NDManager m = NDManager.newBaseManager()) {
            LearnedPurifier p = new LearnedPurifier("maep",
                    MaepNetwork.create(TinyPurifiers.MAEP, m.newSubManager(), 3));
            assertTrue(p.gradientModes().contains(GradientMode.EXACT));
            NDArray x = TinyPurifiers.images(2, 2).batch(m, 0, 2);
            NDArray w = m.randomNormal(new Shape(2, 1, 8, 8));
            double[] d = TinyPurifiers.directionalDerivatives(p, x, w, TinyPurifiers.smoothDirection(m, 2), 1e-2);
            assertTrue(Math.abs(d[0]) > 1e-3, "the derivative is not trivially zero: " + d[0]);
            assertEquals(d[1], d[0], 0.01 * Math.abs(d[1]) + 1e-5, "autograd " + d[0] + " vs central " + d[1]);
            p.close();
        }
    }

    @Test
    void givenOneInput_whenPurifiedWithDifferentSeeds_thenTheOutputIsTheSameAndInTheUnitRange() {
        try (NDManager m = NDManager.newBaseManager()) {
            LearnedPurifier p = new LearnedPurifier("maep",
                    MaepNetwork.create(TinyPurifiers.MAEP, m.newSubManager(), 3));
            NDArray x = TinyPurifiers.images(3, 2).batch(m, 0, 3);
            float[] a = p.purify(x, 1).toFloatArray();
            assertArrayEquals(a, p.purify(x, 99).toFloatArray(), 0f);
            for (float v : a) {
                assertTrue(v >= 0 && v <= 1, "value " + v);
            }
            p.close();
        }
    }
}
