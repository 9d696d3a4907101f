package org.lustra.defense;

/**
 * How an attack's gradient passes through a purifier (SPEC §7). Every adversarial result records the mode it used:
 * a robustness number means nothing without it.
 */
public enum GradientMode {
    /** Backpropagation through the whole purification (long chains recomputed step by step from stored noise). */
    EXACT,
    /** The same purifier on a coarser grid, differentiated exactly (what the seeds' code does). */
    SURROGATE,
    /** Backward Pass Differentiable Approximation: identity backward (Athalye et al., 2018). */
    BPDA,
    /** Straight-through estimator for hard thresholds: forward hard, backward identity. */
    STE,
    /**
     * A detect-then-replace purifier's corrected surrogate ({@link DetectingPurifier#purifyMaskedSurrogate}): output
     * x·(1 − M̃) + sg(R)·M̃ — exact outside the mask, the mask M̃ straight-through, the replaced content R a constant,
     * and no identity term for the replaced pixels.
     */
    MASKED
}
