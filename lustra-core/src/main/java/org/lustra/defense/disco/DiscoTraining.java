package org.lustra.defense.disco;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.lustra.data.ImageSet;
import org.lustra.defense.learned.PairTraining;
import org.lustra.defense.maep.MaepTraining;
import org.lustra.model.Classifier;
import org.lustra.util.Seed;

/** Trains the DISCO-style purifier with the shared {@link PairTraining} loop: ℓ1 to the clean image on PGD pairs. */
public final class DiscoTraining {
    /** What the model card says the network is for. */
    public static final String ROLE = "DISCO-style purifier (EDSR encoder + local implicit function): one "
            + "deterministic pass before the classifier";

    private DiscoTraining() {}

    /**
     * The default recipe: AdamW without weight decay (EDSR trains with Adam and none), warm-up then cosine, PGD with
     * {@code pgdSteps} steps at ε ∈ {0 (clean), 4/255, 8/255, 0.1} — the pairs of MAEP's recipe, so that the two
     * purifiers differ only in network and loss.
     */
    public static PairTraining.Options defaults(int steps, int batchSize, float learningRate, int pgdSteps,
            long seed) {
        return new PairTraining.Options(steps, batchSize, learningRate, Math.min(500, steps / 10), 0f,
                MaepTraining.EPSILONS, pgdSteps, seed, 180, 250);
    }

    /** Initialises a network from {@code opt.seed()} and trains it; the result's network is the caller's to close. */
    public static PairTraining.Result train(DiscoNetwork.Config config, ImageSet train, Classifier classifier,
            PairTraining.Options opt, Path checkpointDir, Consumer<String> log) {
        DiscoNetwork net = DiscoNetwork.create(config, NDManager.newBaseManager(),
                Seed.of(opt.seed()).child("init").intValue());
        try {
            return PairTraining.train(net, train, classifier, opt, checkpointDir, log);
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
    }
}
