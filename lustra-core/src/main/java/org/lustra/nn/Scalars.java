package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Scalar arithmetic that is safe under autograd. DJL 0.34's {@code NDArray.mul(Number)} / {@code div(Number)} wrap the
 * number in a temporary tensor whose memory is a JVM direct buffer (no copy) and close it right after the op; the
 * engine saves that tensor for the backward pass, and once the garbage collector has freed the buffer, the backward
 * pass reads whatever the memory holds now. Measured: the gradient of {@code x.mul(3f)} read after a GC came out as
 * −3.4e35 instead of 3 (see README, "engine facts"). This was the source of the rare non-finite gradients in
 * diffusion training and of run-to-run differences in gradients through DiffPure. The scalar tensors here come from
 * {@code full}, whose memory the engine owns, so autograd keeps them alive for as long as it needs them.
 * (add/sub by a number are safe: their backward does not read the scalar.)
 */
public final class Scalars {
    private Scalars() {}

    /** x · v, owned by x's manager. */
    public static NDArray mul(NDArray x, double v) {
        try (NDArray s = x.getManager().full(new Shape(), (float) v)) {
            return x.mul(s);
        }
    }

    /** x / v, owned by x's manager. */
    public static NDArray div(NDArray x, double v) {
        try (NDArray s = x.getManager().full(new Shape(), (float) v)) {
            return x.div(s);
        }
    }

    /**
     * An engine-owned copy of Java data, for constants that autograd may save (e.g. per-row coefficients): arrays
     * made by {@code create(float[])} are backed by a direct buffer that dies with the Java handle.
     */
    public static NDArray owned(ai.djl.ndarray.NDManager manager, float[] data, Shape shape) {
        try (NDArray blob = manager.create(data, shape)) {
            return blob.duplicate();
        }
    }
}
