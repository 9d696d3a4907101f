package org.lustra.model;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * An image classifier whose forward pass also exposes each stage's activation. Inputs are (N, C, H, W) float32 in
 * [0, 1]. All returned arrays belong to the manager of the input array, so callers scope them with sub-managers.
 * Parameters are frozen: gradients flow to the input only.
 */
public interface Classifier extends AutoCloseable {

    /** Logits (N, K) and the stage activations (N, C_s, H_s, W_s), shallowest first. */
    record Output(NDArray logits, List<NDArray> stages) {}

    String name();

    int channels();

    int size();

    List<String> classNames();

    default int classes() {
        return classNames().size();
    }

    Output forward(NDArray x);

    /**
     * Whether {@link #forward} returns stage activations. Lustra's networks do; a TorchScript module is a black box
     * and returns none, so defences that read inner features refuse it.
     */
    default boolean exposesStages() {
        return true;
    }

    /** Logits only; owned by {@code x}'s manager. */
    default NDArray logits(NDArray x) {
        return forward(x).logits();
    }

    @Override
    void close();
}
