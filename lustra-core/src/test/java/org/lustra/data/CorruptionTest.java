package org.lustra.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CorruptionTest {
    private static float[] random(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble();
        }
        return x;
    }

    @Test
    void levelsAreCifar10cs() {
        // CIFAR-10-C (hendrycks/robustness make_cifar_c.py): brightness c, contrast c per severity 1..5
        double[] b = new double[5];
        double[] c = new double[5];
        for (int s = 1; s <= 5; s++) {
            b[s - 1] = Corruption.BRIGHTNESS.level(s);
            c[s - 1] = Corruption.CONTRAST.level(s);
        }
        assertArrayEquals(new double[] {0.05, 0.1, 0.15, 0.2, 0.3}, b);
        assertArrayEquals(new double[] {0.75, 0.5, 0.4, 0.3, 0.15}, c);
    }

    @Test
    void brightnessRisesAndContrastFallsWithSeverity() {
        // given a dark grayscale image (no pixel saturates at the first severities)
        float[] x = random(1, 64);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 0.6f;
        }
        double lastMean = mean(x);
        double lastStd = std(x);
        // when corrupted at severities 1..5, then mean brightness rises and spread falls strictly
        for (int s = 1; s <= 5; s++) {
            double m = mean(Corruption.BRIGHTNESS.apply(x, 1, s));
            double sd = std(Corruption.CONTRAST.apply(x, 1, s));
            assertTrue(m > lastMean, "brightness severity " + s + ": mean " + m + " after " + lastMean);
            assertTrue(sd < lastStd, "contrast severity " + s + ": std " + sd + " after " + lastStd);
            lastMean = m;
            lastStd = sd;
        }
    }

    @Test
    void valuesStayInTheUnitRange() {
        // given images with values up to 1, in one and three channels
        for (int channels : new int[] {1, 3}) {
            float[] x = random(2 + channels, 3 * 16);
            x[0] = 1f;
            for (Corruption c : Corruption.values()) {
                for (int s = 1; s <= 5; s++) {
                    // when corrupted, then every value lies in [0, 1]
                    for (float v : c.apply(x, channels, s)) {
                        assertTrue(v >= 0 && v <= 1, c + " severity " + s + " gave " + v);
                    }
                }
            }
        }
        // and a pixel near white saturates at 1 exactly
        assertEquals(1f, Corruption.BRIGHTNESS.apply(new float[] {0.95f}, 1, 5)[0]);
    }

    @Test
    void brightnessOnRgbRaisesHsvValueKeepingHueAndSaturation() {
        // given a pixel (0.2, 0.4, 0.1) — V = 0.4 — and a black pixel, as a 3x1x2 image
        float[] x = {0.2f, 0f, 0.4f, 0f, 0.1f, 0f};
        // when brightened at severity 3 (+0.15): V 0.4 → 0.55, every channel × 1.375; black (S = 0) → grey 0.15
        float[] y = Corruption.BRIGHTNESS.apply(x, 3, 3);
        assertArrayEquals(new float[] {0.275f, 0.15f, 0.55f, 0.15f, 0.1375f, 0.15f}, y, 1e-6f);
    }

    @Test
    void contrastScalesEachChannelsDeviationFromItsMean() {
        // given one channel 0, 0.2, 0.4, 0.6 (mean 0.3), when severity 1 (factor 0.75)
        float[] y = Corruption.CONTRAST.apply(new float[] {0f, 0.2f, 0.4f, 0.6f}, 1, 1);
        // then 0.3 + 0.75 (x − 0.3)
        assertArrayEquals(new float[] {0.075f, 0.225f, 0.375f, 0.525f}, y, 1e-6f);
    }

    @Test
    void imageSetsAreQuantisedByTruncationAsCifar10cWas() {
        // given a byte 10 and a byte 0, when brightened at severity 1: 255 (10/255 + 0.05) = 22.75 → 22; 12.75 → 12
        ImageSet set = new ImageSet(new byte[] {10, 0}, new int[] {3}, 1, 1, 2);
        ImageSet y = Corruption.BRIGHTNESS.applyTo(set, 1);
        assertArrayEquals(new byte[] {22, 12}, y.pixels());
        assertEquals(3, y.label(0));
    }

    @Test
    void severitiesOutsideOneToFiveAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Corruption.CONTRAST.level(0));
        assertThrows(IllegalArgumentException.class, () -> Corruption.BRIGHTNESS.level(6));
    }

    private static double mean(float[] x) {
        double s = 0;
        for (float v : x) {
            s += v;
        }
        return s / x.length;
    }

    private static double std(float[] x) {
        double m = mean(x);
        double q = 0;
        for (float v : x) {
            q += (v - m) * (v - m);
        }
        return Math.sqrt(q / x.length);
    }
}
