package org.lustra.defense.disco;

import org.lustra.defense.learned.LearnedModels;
import org.lustra.defense.learned.LearnedPurifier;

/**
 * The DISCO-style purifier (Ho and Vasconcelos, 2022) as a defence: the shipped {@link DiscoNetwork} in one
 * deterministic pass, clamped to [0, 1]. Exact gradients by backpropagation ({@link LearnedPurifier}).
 */
public final class Disco {
    /** The model {@code disco} alone loads: trained on Fashion-MNIST against classifier-resnet. */
    public static final String DEFAULT_MODEL = "disco-fmnist";

    private Disco() {}

    /** The purifier named {@code name} on the DISCO model {@code nameOrDir}; one sentence when it is not trained. */
    public static LearnedPurifier load(String name, String nameOrDir) {
        return new LearnedPurifier(name, LearnedModels.load(nameOrDir, DiscoNetwork.KIND, DiscoNetwork::fromCard));
    }
}
