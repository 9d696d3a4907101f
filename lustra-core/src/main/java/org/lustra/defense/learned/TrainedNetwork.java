package org.lustra.defense.learned;

import ai.djl.nn.Block;

/** A trained network that owns its parameters (a purifier network, SAC's segmenter): what {@link LearnedModels#load} fills. */
public interface TrainedNetwork extends AutoCloseable {

    /** The network; its parameters are what training updates and the weight file holds. */
    Block block();

    /** Frees the parameters. */
    @Override
    void close();
}
