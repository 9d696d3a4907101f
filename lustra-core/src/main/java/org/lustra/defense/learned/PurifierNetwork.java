package org.lustra.defense.learned;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A network trained to map adversarial images to their clean originals (MAEP, DISCO), with the parameters it owns.
 * Images are (N, C, H, W) in [0, 1]; returned arrays belong to the manager of the input.
 */
public interface PurifierNetwork extends TrainedNetwork {

    /** The training loss and its named parts (for progress lines and the history), all scalars. */
    record Loss(NDArray total, Map<String, NDArray> parts) {}

    /** The method, as in the spec and the CLI: {@code maep}, {@code disco}. */
    String kind();


    /** The configuration as the JSON fields a model card stores. */
    Map<String, Object> configFields();

    /**
     * The training loss of purifying {@code adversarial} toward {@code clean} (training mode, so the graph is kept);
     * any random choice (MAEP's patch mask) is drawn from {@code rng}.
     */
    Loss loss(ParameterStore ps, NDArray adversarial, NDArray clean, SplittableRandom rng);

    /** One deterministic inference pass (no mask, no randomness), unclamped. */
    NDArray reconstruct(ParameterStore ps, NDArray x);

    /** Image channels and side the network takes. */
    int channels();

    int size();
}
