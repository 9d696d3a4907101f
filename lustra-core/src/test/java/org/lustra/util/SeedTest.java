package org.lustra.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SeedTest {
    private static double[] draws(SplittableRandom r, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = r.nextDouble();
        }
        return d;
    }

    /** The largest |Pearson correlation| between a and b shifted by 0..maxLag draws either way. */
    private static double maxLaggedCorrelation(double[] a, double[] b, int maxLag) {
        double worst = 0;
        for (int lag = -maxLag; lag <= maxLag; lag++) {
            int n = a.length - Math.abs(lag);
            double sa = 0;
            double sb = 0;
            double saa = 0;
            double sbb = 0;
            double sab = 0;
            for (int i = 0; i < n; i++) {
                double x = a[Math.max(0, lag) + i];
                double y = b[Math.max(0, -lag) + i];
                sa += x;
                sb += y;
                saa += x * x;
                sbb += y * y;
                sab += x * y;
            }
            double cov = sab / n - sa / n * sb / n;
            double corr = cov / Math.sqrt((saa / n - sa * sa / n / n) * (sbb / n - sb * sb / n / n));
            worst = Math.max(worst, Math.abs(corr));
        }
        return worst;
    }

    @Test
    void givenTheOldArithmetic_whenAdjacentSeedsAreUsed_thenOneStreamIsTheOtherShifted() {
        // the aliasing Seed exists to prevent: seed·γ + step with γ = SplittableRandom's own increment
        double[] a = draws(new SplittableRandom(5 * 0x9E3779B97F4A7C15L + 1), 2000);
        double[] b = draws(new SplittableRandom(6 * 0x9E3779B97F4A7C15L + 1), 2000);
        assertTrue(maxLaggedCorrelation(a, b, 3) > 0.99);
    }

    @Test
    void givenAdjacentRootSeedsAndIndices_whenChildStreamsAreDrawn_thenTheyAreUncorrelatedAtEveryShift() {
        double[] s5 = draws(Seed.of(5).child(1).random(), 5000);
        double[] s6 = draws(Seed.of(6).child(0).random(), 5000);
        double[] s5next = draws(Seed.of(5).child(2).random(), 5000);
        // 5000 draws: |r| of independent streams stays below ~0.06 with overwhelming probability
        assertTrue(maxLaggedCorrelation(s5, s6, 3) < 0.06);
        assertTrue(maxLaggedCorrelation(s5, s5next, 3) < 0.06);
        assertTrue(maxLaggedCorrelation(draws(Seed.of(5).random(), 5000), draws(Seed.of(6).random(), 5000), 3)
                < 0.06);
    }

    @Test
    void givenTheSamePath_whenDerivedTwice_thenTheSeedIsTheSame_andOtherNamesDiffer() {
        assertEquals(Seed.of(3).child("cell").child(7), Seed.of(3).child("cell").child(7));
        assertNotEquals(Seed.of(3).child("cell").child(7), Seed.of(3).child("cell").child(8));
        assertNotEquals(Seed.of(3).child("attack"), Seed.of(3).child("purification"));
        assertNotEquals(Seed.of(3).child("a").child("b"), Seed.of(3).child("b").child("a"));
    }
}
