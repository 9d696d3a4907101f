package org.lustra.defense;

import ai.djl.ndarray.NDArray;

/**
 * Straight-through estimator (Bengio et al., 2013) for hard thresholds inside a defence, e.g. binarising an anomaly
 * map into a mask: the forward value is the hard 0/1 step, the backward pass is the identity, so an adaptive attack
 * gets a gradient through the threshold (SPEC §7, gradient mode STE).
 */
public final class Ste {
    private Ste() {}

    /** 1 where x > τ, else 0, with ∂/∂x = 1; owned by {@code x}'s manager. */
    public static NDArray threshold(NDArray x, float tau) {
        NDArray hard = x.gt(tau).toType(x.getDataType(), false);
        return x.add(hard.sub(x).stopGradient());
    }
}
