package org.lustra.attack;

import ai.djl.ndarray.NDArray;

/**
 * What a detector-aware attack sees of a defence that first detects a region and then replaces it (DIFFender: its
 * localiser and restoration): the classifier behind the defence, and the detector's differentiable soft mask and the
 * hard mask the defence acts on. Every call draws fresh randomness (the caller seeds the calls from the attack's own
 * stream), one draw per row, so EOT copies are rows. Results are owned by the rows' manager.
 */
public interface DetectorView {

    /** Logits (R, K) of the bare classifier, differentiable in {@code rows}. */
    NDArray classifierLogits(NDArray rows);

    /** The detector's soft mask (R, 1, H, W) in [0, 1], differentiable in {@code rows}. */
    NDArray softDetection(NDArray rows);

    /** The hard mask (R, 1, H, W) the defence would replace; no gradient. */
    NDArray detection(NDArray rows);
}
