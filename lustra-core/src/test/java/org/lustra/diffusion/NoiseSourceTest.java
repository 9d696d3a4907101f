package org.lustra.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NoiseSourceTest {
    static float[] gaussians(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return v;
    }

    @Test
    void drawsKeepTheirValuesWhileTheStagingBufferIsReused() {
        // given a source and the plain stream it must reproduce (the values seeded runs were recorded with)
        SplittableRandom expected = new SplittableRandom(42);
        NoiseSource noise = new NoiseSource(42);
        try (NDManager m = NDManager.newBaseManager()) {
            // when drawing three times, the last draw smaller than the first, through one reused buffer
            NDArray a = noise.normal(m, new Shape(2, 3, 4));
            NDArray b = noise.normal(m, new Shape(2, 3, 4));
            NDArray c = noise.normal(m, new Shape(5));
            System.gc(); // an array still backed by a JVM buffer could now read freed memory

            // then each array holds its own draw: no later draw overwrote an earlier one
            assertArrayEquals(gaussians(expected, 24), a.toFloatArray(), 0f);
            assertArrayEquals(gaussians(expected, 24), b.toFloatArray(), 0f);
            assertArrayEquals(gaussians(expected, 5), c.toFloatArray(), 0f);
        }
    }

    @Test
    void stepTimestepsAreFilledByTheEngineWithTheSameValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            // given one timestep for every row (a sampler's step) and one per row (training)
            // when both become the UNet's float timesteps
            float[] same = DiffusionModel.timesteps(m, new int[] {999, 999, 999}).toFloatArray();
            float[] mixed = DiffusionModel.timesteps(m, new int[] {0, 17, 999}).toFloatArray();

            // then the values are exactly the integers, whichever way they were made
            assertArrayEquals(new float[] {999f, 999f, 999f}, same, 0f);
            assertArrayEquals(new float[] {0f, 17f, 999f}, mixed, 0f);
        }
    }
}
