package org.lustra.defense;

import ai.djl.ndarray.NDArray;

/**
 * A purifier that first detects a region (a patch) and then replaces it, and opens both steps to an attacker who knows
 * the defence (SPEC §7: "a defence that relies on a detector is also attacked through that detector"). Three views,
 * all drawing their randomness from {@code seed} exactly as {@code purify(x, seed)} does, so the same seed gives the
 * detection that purification acts on:
 * <ul>
 *   <li>{@link #softDetection}: a differentiable relaxation of the detection mask, for evade-then-fool attacks;</li>
 *   <li>{@link #detection}: the hard mask the purifier would replace, without gradient, to check an evasion;</li>
 *   <li>{@link #purifyMaskedSurrogate}: the whole pipeline with gradient mode {@link GradientMode#MASKED}.</li>
 * </ul>
 */
public interface DetectingPurifier extends MaskingPurifier {

    /** (N, 1, H, W) in [0, 1], differentiable in {@code x}; owned by {@code x}'s manager. */
    NDArray softDetection(NDArray x, long seed);

    /** (N, 1, H, W), 1 where {@code purify(x, seed)} replaces pixels; no gradient; owned by {@code x}'s manager. */
    NDArray detection(NDArray x, long seed);

    /**
     * Equal to {@code purify(x, seed)}, differentiable as x·(1 − M̃) + sg(R)·M̃ (see {@link GradientMode#MASKED});
     * owned by {@code x}'s manager.
     */
    NDArray purifyMaskedSurrogate(NDArray x, long seed);
}
