package org.lustra.defense.learned;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import java.util.Map;

/**
 * A trained network that gives each pixel a logit of "belongs to a patch" (SAC's segmenter, Jedi's mask autoencoder):
 * what {@link MaskTraining} trains with per-pixel binary cross-entropy.
 */
public interface MaskNetwork extends TrainedNetwork {

    /** Per-pixel logits (N, 1, H, W) of the input (N, C, H, W); owned by the input's manager. */
    NDArray logits(ParameterStore ps, NDArray x, boolean training);

    /** The configuration as the JSON fields a model card and a checkpoint's settings key hold. */
    Map<String, Object> configFields();
}
