package org.lustra.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** Reference numbers computed by hand (in double precision, outside Lustra) for T = 1000, β 1e-4 → 0.02. */
class NoiseScheduleTest {
    private final NoiseSchedule s = NoiseSchedule.standard();

    @Test
    void alphaBarMatchesHandComputedValues() {
        assertEquals(0.9999, s.alphaBar(0), 1e-15);
        assertEquals(0.9997800920720721, s.alphaBar(1), 1e-15);
        assertEquals(0.8951415908975365, s.alphaBar(100), 1e-12);
        assertEquals(0.3037363663155658, s.alphaBar(340), 1e-12);
        assertEquals(4.0358297653756754e-05, s.alphaBar(999), 1e-15);
        assertEquals(1.0, s.alphaBar(-1));
        assertEquals(100, s.timestepForFraction(0.1));
        assertEquals(342, s.timestepForAlphaBar(0.30), "SPEC: ᾱ ≈ 0.30 is t ≈ 340 of ours");
    }

    @Test
    void oneStepInversionOfExactNoisingIsExact() {
        try (NDManager m = NDManager.newBaseManager()) {
            NoiseSource src = new NoiseSource(5);
            NDArray x0 = m.randomUniform(-1, 1, new Shape(3, 1, 4, 4));
            NDArray eps = src.normal(m, new Shape(3, 1, 4, 4));
            for (int t : new int[] {0, 100, 340, 900}) {
                NDArray back = s.predictX0(s.addNoise(x0, t, eps), t, eps);
                assertArrayEquals(x0.toFloatArray(), back.toFloatArray(), t < 900 ? 2e-5f : 2e-3f, "t=" + t);
            }
            int[] ts = {10, 500, 999};
            NDArray back = s.predictX0(s.addNoise(x0, ts, eps), ts, eps);
            assertArrayEquals(x0.toFloatArray(), back.toFloatArray(), 5e-3f);
        }
    }

    @Test
    void ddimAndDdpmStepsMatchHandComputedValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray xt = m.create(new float[] {0.2f});
            NDArray eps = m.create(new float[] {0.5f});
            NDArray z = m.create(new float[] {-1f});
            assertEquals(0.04025999902633037, s.predictX0(xt, 100, eps).getFloat(), 1e-6);
            assertEquals(0.12632303418580476, s.ddimStep(xt, 100, 50, eps, 0.0, null).getFloat(), 1e-6);
            assertEquals(0.1486669218923713, s.ddimSigma(100, 50, 1.0), 1e-12);
            assertEquals(-0.06444441276089957, s.ddimStep(xt, 100, 50, eps, 1.0, z).getFloat(), 1e-6);
            assertEquals(0.15164876840989747, s.ddpmStep(xt, 100, eps, z).getFloat(), 1e-6);
        }
    }

    @Test
    void ddimToMinusOneReturnsThePredictedCleanImage() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray xt = m.create(new float[] {0.3f, -0.7f});
            NDArray eps = m.create(new float[] {0.1f, 0.4f});
            assertArrayEquals(s.predictX0(xt, 20, eps).toFloatArray(),
                    s.ddimStep(xt, 20, -1, eps, 0.0, null).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void guidanceCombinesBothRows() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray c = m.create(new float[] {1f, 2f});
            NDArray u = m.create(new float[] {0.5f, 3f});
            assertArrayEquals(new float[] {4.25f, -4.5f}, NoiseSchedule.guide(c, u, 7.5).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void gridsAreEvenAndEndAtZero() {
        assertArrayEquals(new int[] {100, 75, 50, 25, 0}, NoiseSchedule.grid(100, 5));
        assertArrayEquals(new int[] {340}, NoiseSchedule.grid(340, 1));
        assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.grid(3, 5));
        assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.linear(1000, 0.02, 1e-4));
        assertThrows(IllegalArgumentException.class, () -> s.alphaBar(1000));
    }

    @Test
    void noiseIsReplayableFromItsSeed() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] a = new NoiseSource(42).normal(m, new Shape(64)).toFloatArray();
            float[] b = new NoiseSource(42).normal(m, new Shape(64)).toFloatArray();
            assertArrayEquals(a, b, 0f);
            double mean = 0;
            float[] big = new NoiseSource(1).normal(m, new Shape(20000)).toFloatArray();
            for (float v : big) {
                mean += v / big.length;
            }
            assertEquals(0, mean, 0.03);
        }
    }
}
