package org.lustra.defense;

import ai.djl.ndarray.NDArray;

/**
 * A purifier with a long chain whose exact input gradient is computed by recomputation (SPEC §7, EXACT): the forward
 * pass keeps only each step's input and noise; the backward pass recomputes one step at a time. Memory is about one
 * step's activations, and the gradient matches the forward exactly because the noise is replayed, not redrawn.
 */
public interface RecomputablePurifier extends Purifier {

    /** A recorded purification. */
    interface Traced extends AutoCloseable {
        /** The purified batch (equal to {@code purify} with the same seed), owned by this trace until it closes. */
        NDArray output();

        /** gᵀ ∂output/∂x, owned by {@code g}'s manager. */
        NDArray pullback(NDArray g);

        @Override
        void close();
    }

    Traced record(NDArray x, long seed);

    /** The same purifier on a coarse grid, for {@link GradientMode#SURROGATE}. */
    RecomputablePurifier surrogate();
}
