package org.lustra.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;

/**
 * Gaussian noise drawn in Java from an explicit seeded generator, so any run — and the noise of any single step — can
 * be replayed exactly (needed for exact-gradient recomputation, SPEC §7). Torch's global generator cannot do that.
 */
public final class NoiseSource {
    private final SplittableRandom rng;
    /**
     * One direct buffer per source, refilled by every draw. {@code create(float[])} would allocate a fresh direct
     * buffer per draw, which the JVM frees only at a garbage collection: a DDPM chain draws noise at every step, so its
     * resident memory grew with the chain's length until a GC came (README, engine facts). The engine copies out of
     * this buffer at once, so reusing it changes no value.
     */
    private ByteBuffer staging;

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

    /**
     * Standard normal noise of {@code shape}, owned by {@code manager}. The array's memory belongs to the engine (not
     * to a JVM buffer), so autograd may keep it for as long as it likes.
     */
    public NDArray normal(NDManager manager, Shape shape) {
        int size = Math.toIntExact(shape.size());
        if (staging == null || staging.capacity() < 4 * size) {
            staging = ByteBuffer.allocateDirect(4 * size).order(ByteOrder.nativeOrder());
        }
        ByteBuffer bytes = staging.duplicate().order(ByteOrder.nativeOrder());
        bytes.limit(4 * size);
        FloatBuffer v = bytes.asFloatBuffer();
        for (int i = 0; i < size; i++) {
            v.put(i, (float) rng.nextGaussian());
        }
        // create() on a direct buffer wraps it without a copy; duplicate() is the engine's own copy
        try (NDArray view = manager.create(bytes, shape, DataType.FLOAT32)) {
            return view.duplicate();
        }
    }

    public int nextInt(int bound) {
        return rng.nextInt(bound);
    }

    public double nextDouble() {
        return rng.nextDouble();
    }
}
