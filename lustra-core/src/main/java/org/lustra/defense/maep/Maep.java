package org.lustra.defense.maep;

import org.lustra.defense.learned.LearnedModels;
import org.lustra.defense.learned.LearnedPurifier;

/**
 * MAEP, the masked autoencoder purifier (seed 003; SPEC §6), as a defence: the shipped {@link MaepNetwork} in one
 * deterministic pass, clamped to [0, 1]. Exact gradients by backpropagation ({@link LearnedPurifier}).
 */
public final class Maep {
    /** The model {@code maep} alone loads: trained on Fashion-MNIST against classifier-resnet. */
    public static final String DEFAULT_MODEL = "maep-fmnist";

    private Maep() {}

    /** The purifier named {@code name} on the MAEP model {@code nameOrDir}; one sentence when it is not trained. */
    public static LearnedPurifier load(String name, String nameOrDir) {
        return new LearnedPurifier(name, LearnedModels.load(nameOrDir, MaepNetwork.KIND, MaepNetwork::fromCard));
    }
}
