package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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

    @Test
    void wilsonOfEightOfTenIsTheTextbookInterval() {
        // given 8 successes of 10, when Wilson's 95 % interval is taken, then it is 0.4902–0.9433 (by hand, Python)
        double[] ci = Metrics.wilson(8, 10);
        assertEquals(0.49016, ci[0], 1e-4);
        assertEquals(0.94332, ci[1], 1e-4);
    }

    @Test
    void seedsThatRepeatTheImagesAreAsWideAsOneSeedAtThePooledProportion() {
        // given three run seeds that each score the same 10 images, 24 of the 30 records robust
        // when the interval is taken over images
        double[] pooled = Metrics.wilsonOverImages(24, Collections.nCopies(10, 3));
        // then it is Wilson's at the pooled 0.8 with n = 10, wider than counting the 30 records as independent
        assertArrayEquals(Metrics.wilson(8, 10), pooled, 1e-12);
        double[] naive = Metrics.wilson(24, 30);
        assertTrue(pooled[1] - pooled[0] > naive[1] - naive[0]);
    }

    @Test
    void oneSeedOverImagesIsPlainWilson() {
        // given one seed on 10 images, 7 robust, when the interval is taken over images, then it is Wilson's 7 of 10
        assertArrayEquals(Metrics.wilson(7, 10), Metrics.wilsonOverImages(7, Collections.nCopies(10, 1)), 1e-12);
    }

    @Test
    void unevenSeedCountsUseKishsEffectiveSampleSize() {
        // given 4 images with 3 seeds and 4 with 1 (a run under way): 16 records, effective n = 16² / (4·9 + 4) = 6.4
        List<Integer> w = List.of(3, 3, 3, 3, 1, 1, 1, 1);
        // when 8 of the 16 records are robust, then the interval is narrower than at n = 6 and wider than at n = 8
        double[] ci = Metrics.wilsonOverImages(8, w);
        double[] six = Metrics.wilson(3, 6);
        double[] eight = Metrics.wilson(4, 8);
        assertTrue(ci[1] - ci[0] < six[1] - six[0] && ci[1] - ci[0] > eight[1] - eight[0]);
    }

    @Test
    void anImageWithoutRecordsOrMoreSuccessesThanRecordsIsRefused() {
        // given counts no journal can produce, when the interval is asked for, then it is refused
        assertThrows(IllegalArgumentException.class, () -> Metrics.wilsonOverImages(1, List.of(1, 0)));
        assertThrows(IllegalArgumentException.class, () -> Metrics.wilsonOverImages(5, List.of(2, 2)));
    }

    @Test
    void aCellsReportIntervalCountsEachImageOnce() {
        // given a cell whose three run seeds score the same 10 images, 8 robust under every seed
        List<SampleRecord> recs = new ArrayList<>();
        for (long seed = 1; seed <= 3; seed++) {
            for (int i = 0; i < 10; i++) {
                boolean robust = i < 8;
                recs.add(new SampleRecord(seed, "c", 0, i, 3, 3, robust ? 3 : 4, true, robust, null, 1, 0.03, 1.0,
                        30.0, 0.9, null, 1, 1));
            }
        }
        // when the cell is scored
        Report.CellSummary s = Report.scoreCell("c", new CellInfo("none", "pgd", "adaptive", "EXACT", "t", "b"),
                recs);
        // then its interval is that of 8 of 10 images, not of 24 of 30 records
        double[] ci = Metrics.wilson(8, 10);
        assertEquals(ci[0], s.ciLow(), 1e-12);
        assertEquals(ci[1], s.ciHigh(), 1e-12);
        assertEquals(10, s.images());
        assertEquals(3, s.runs());
    }
}
