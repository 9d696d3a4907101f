package org.lustra.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Gaussian noise drawn in Java from an explicit seeded generator, so any run — and the noise of any single step — can
 * be replayed exactly (needed for exact-gradient recomputation, SPEC §7). Torch's global generator cannot do that.
 */
public final class NoiseSource {
    private final SplittableRandom rng;

    public NoiseSource(long seed) {
        this.rng = new SplittableRandom(seed);
    }

    private NoiseSource(SplittableRandom rng) {
        this.rng = rng;
    }

    /** An independent stream (for one image, one step, one worker). */
    public NoiseSource split() {
        return new NoiseSource(rng.split());
    }

    /** Standard normal noise of {@code shape}, owned by {@code manager}. */
    public NDArray normal(NDManager manager, Shape shape) {
        float[] v = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return manager.create(v, shape);
    }

    public int nextInt(int bound) {
        return rng.nextInt(bound);
    }

    public double nextDouble() {
        return rng.nextDouble();
    }
}
