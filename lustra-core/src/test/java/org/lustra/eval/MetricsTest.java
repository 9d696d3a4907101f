package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MetricsTest {
    @Test
    void ssimOfOneWindowMatchesTheHandComputedValue() {
        // given a 7x7 image a[y][x] = ((3y + 5x) mod 7)/7 and b = min(1, 0.8 a + 0.1 ((x + y) mod 2)): one 7x7 window
        float[] a = new float[49];
        float[] b = new float[49];
        for (int y = 0; y < 7; y++) {
            for (int x = 0; x < 7; x++) {
                double v = ((3 * y + 5 * x) % 7) / 7.0;
                a[y * 7 + x] = (float) v;
                b[y * 7 + x] = (float) Math.min(1, 0.8 * v + 0.1 * ((x + y) % 2));
            }
        }
        // when SSIM is computed, then it is (2 μa μb + C1)(2 σab + C2) / ((μa² + μb² + C1)(σa² + σb² + C2)) with sample
        // (co)variances: μa = 3/7, μb = 0.391837, σa² = 1/12, σb² = 0.055884, σab = 1/15 → 0.954172 (by hand, Python)
        assertEquals(0.95417162029974, Metrics.ssim(a, 0, b, 0, 1, 7, 7), 1e-6);
        assertEquals(1.0, Metrics.ssim(a, 0, a, 0, 1, 7, 7), 1e-12);
    }

    @Test
    void psnrOfAUniformErrorIsTenLogOfOneOverItsSquare() {
        // given an error of 0.1 everywhere, then PSNR = 10 log10(1 / 0.01) = 20 dB
        float[] a = {0.2f, 0.5f, 0.7f, 0.9f};
        float[] b = {0.3f, 0.4f, 0.8f, 1.0f};
        assertEquals(20.0, Metrics.psnr(a, 0, b, 0, 4), 1e-5);
    }
}
