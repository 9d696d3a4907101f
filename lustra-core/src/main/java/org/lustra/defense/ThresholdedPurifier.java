package org.lustra.defense;

import ai.djl.ndarray.NDArray;

/**
 * A purifier with hard thresholds inside (e.g. a binarised patch mask) that offers gradient mode
 * {@link GradientMode#STE}: a forward pass whose autograd graph passes the thresholds straight through (and whatever
 * else the purifier documents, e.g. BPDA for a long repainting chain), with the same output as {@code purify}.
 */
public interface ThresholdedPurifier extends Purifier {

    /** Equal to {@code purify(x, seed)}, differentiable in {@code x} as documented; owned by {@code x}'s manager. */
    NDArray purifyForAttack(NDArray x, long seed);

    /**
     * What passes straight through and what stays exact in {@link #purifyForAttack}, for the route label every
     * adaptive result carries, e.g. "exact localisation, BPDA for the repainted pixels".
     */
    String straightThrough();
}
