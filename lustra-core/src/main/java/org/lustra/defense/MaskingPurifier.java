package org.lustra.defense;

import ai.djl.ndarray.NDArray;

/**
 * A purifier that replaces a region it located (e.g. DIFFender's patch mask) and can say where: the capability the
 * CLI and the service ask for when they write masks and anomaly maps, instead of asking for one method by name.
 */
public interface MaskingPurifier extends Purifier {

    /**
     * A purification with the region it replaced.
     *
     * @param purified (N, C, H, W), equal to {@code purify} with the same seed
     * @param mask (N, 1, H, W), 1 where pixels were replaced
     * @param anomaly (N, 1, H, W), the per-pixel score the mask was thresholded from
     */
    record Masked(NDArray purified, NDArray mask, NDArray anomaly) {}

    /** Purifies without gradients and returns the mask and anomaly map too; all owned by {@code x}'s manager. */
    Masked purifyMasked(NDArray x, long seed);

    /**
     * The purified images alone, for maskers whose plain purification is {@link #purifyMasked} (no gradient path of
     * its own); the mask and anomaly map are freed at once.
     */
    default NDArray purifyDroppingMasks(NDArray x, long seed) {
        Masked r = purifyMasked(x, seed);
        r.mask().close();
        r.anomaly().close();
        return r.purified();
    }
}
