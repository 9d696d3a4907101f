package org.lustra.defense.maep;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.lustra.defense.learned.PurifierNetwork;
import org.lustra.nn.Layers;
import org.lustra.nn.MaskedAutoencoder;
import org.lustra.nn.PatchMask;
import org.lustra.nn.Scalars;
import org.lustra.util.Json;

/**
 * The network of MAEP (masked autoencoder purifier, seed 003 §4): a ViT masked autoencoder trained on adversarial
 * inputs with the clean image as target. In training a fraction {@code maskRatio} of the patches is hidden from the
 * encoder and the loss (Eq. 15) is the ℓ1 purification loss on the visible patches plus the ℓ1 reconstruction loss on
 * the hidden ones, equal weights; at test nothing is hidden.
 */
public final class MaepNetwork implements PurifierNetwork {
    public static final String KIND = "maep";

    /**
     * The network and the training mask ratio; validated.
     *
     * @param net the masked autoencoder's sizes
     * @param maskRatio fraction of patches hidden in training (the paper: 0.5; 0 at test always)
     */
    public record Config(MaskedAutoencoder.Config net, double maskRatio) {
        public Config {
            if (net == null || !(maskRatio >= 0 && maskRatio < 1)) {
                throw new IllegalArgumentException("Invalid MAEP config: net " + net + ", mask ratio " + maskRatio
                        + " (must be in [0, 1))");
            }
        }

        /**
         * SPEC §6's small MAE for C×size×size images: patch 2, encoder width 128 with 4 blocks of 4 heads (MLP 256),
         * decoder width 64 with 2 blocks; mask ratio 0.5.
         */
        public static Config small(int channels, int size) {
            return new Config(new MaskedAutoencoder.Config(channels, size, 2, 128, 4, 4, 256, 64, 2, 4), 0.5);
        }

        public Map<String, Object> asCardFields() {
            return Json.toMap(this);
        }

        public static Config fromCardFields(Map<String, Object> fields) {
            return Json.fromMap(fields, Config.class);
        }
    }

    private final Config config;
    private final MaskedAutoencoder net;
    private final NDManager manager;

    private MaepNetwork(Config config, MaskedAutoencoder net, NDManager manager) {
        this.config = config;
        this.net = net;
        this.manager = manager;
    }

    /** A freshly initialised network whose parameters live in {@code manager} (which it then owns). */
    public static MaepNetwork create(Config config, NDManager manager, long seed) {
        // every weight, the position tables and the mask token included: normal, std 0.02 (the ViT/MAE recipe)
        MaskedAutoencoder net = Layers.initialize(new MaskedAutoencoder(config.net()), new NormalInitializer(0.02f),
                manager, config.net().channels(), config.net().size(), seed);
        return new MaepNetwork(config, net, manager);
    }

    /** The network of a card's configuration fields, initialised in {@code manager} (weights to be loaded). */
    static MaepNetwork fromCard(Map<String, Object> fields, NDManager manager) {
        return create(Config.fromCardFields(fields), manager, 0);
    }

    public Config config() {
        return config;
    }

    public MaskedAutoencoder autoencoder() {
        return net;
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public Block block() {
        return net;
    }

    @Override
    public Map<String, Object> configFields() {
        return config.asCardFields();
    }

    @Override
    public int channels() {
        return config.net().channels();
    }

    @Override
    public int size() {
        return config.net().size();
    }

    @Override
    public Loss loss(ParameterStore ps, NDArray adversarial, NDArray clean, SplittableRandom rng) {
        int n = Math.toIntExact(adversarial.getShape().get(0));
        int s = size();
        PatchMask mask = PatchMask.random(n, config.net().patches(), config.maskRatio(), rng);
        NDArray out = net.reconstruct(ps, adversarial, mask, true);
        return split(out, clean, mask.pixelMask(adversarial.getManager(), s, s, config.net().patch()));
    }

    /**
     * Eq. 15 with ℓ1: visible = Σ (1 − M)·|out − clean|, hidden = Σ M·|out − clean|, both divided by the number of
     * values N·C·H·W, so that their sum is the mean ℓ1 error of the whole image (the paper's "equal sign holds").
     * {@code pixelMask} is (N, 1, H, W), 1 on hidden pixels. Owned by out's manager.
     */
    public static Loss split(NDArray out, NDArray clean, NDArray pixelMask) {
        NDArray error = out.sub(clean).abs();
        long count = error.size();
        NDArray hidden = Scalars.div(error.mul(pixelMask).sum(), count);
        NDArray visible = Scalars.div(error.mul(pixelMask.neg().add(1f)).sum(), count);
        Map<String, NDArray> parts = new LinkedHashMap<>();
        parts.put("visible", visible);
        parts.put("hidden", hidden);
        return new Loss(visible.add(hidden), parts);
    }

    @Override
    public NDArray reconstruct(ParameterStore ps, NDArray x) {
        return net.reconstruct(ps, x, null, false);
    }

    @Override
    public void close() {
        manager.close();
    }
}
