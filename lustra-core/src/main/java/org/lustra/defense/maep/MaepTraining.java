package org.lustra.defense.maep;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.lustra.data.ImageSet;
import org.lustra.defense.learned.PairTraining;
import org.lustra.model.Classifier;
import org.lustra.util.Seed;

/**
 * Trains MAEP (SPEC §6) with the shared {@link PairTraining} loop: PGD pairs of the training split made on the fly
 * against the protected classifier, loss ℓ1 on visible + ℓ1 on hidden patches, mask ratio from the config (0.5).
 */
public final class MaepTraining {
    /** What the model card says MAEP is for. */
    public static final String ROLE = "MAEP masked-autoencoder purifier (seed 003): one deterministic pass before the "
            + "classifier";

    private MaepTraining() {}

    /** The PGD budgets of the default recipe: clean pairs, the harness's ℓ∞ budgets 8/255 and 0.1, and one below. */
    public static final List<Double> EPSILONS = List.of(0.0, 4 / 255.0, 8 / 255.0, 0.1);

    /**
     * The default recipe: AdamW (warm-up then cosine, weight decay 0.05 as in the MAE recipe), PGD with
     * {@code pgdSteps} steps at {@link #EPSILONS}, a quarter of each batch per budget.
     */
    public static PairTraining.Options defaults(int steps, int batchSize, float learningRate, int pgdSteps,
            long seed) {
        return new PairTraining.Options(steps, batchSize, learningRate, Math.min(500, steps / 10), 0.05f, EPSILONS,
                pgdSteps, seed, 180, 250);
    }

    /** Initialises a network from {@code opt.seed()} and trains it; the result's network is the caller's to close. */
    public static PairTraining.Result train(MaepNetwork.Config config, ImageSet train, Classifier classifier,
            PairTraining.Options opt, Path checkpointDir, Consumer<String> log) {
        MaepNetwork net = MaepNetwork.create(config, NDManager.newBaseManager(),
                Seed.of(opt.seed()).child("init").intValue());
        try {
            return PairTraining.train(net, train, classifier, opt, checkpointDir, log);
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
    }
}
