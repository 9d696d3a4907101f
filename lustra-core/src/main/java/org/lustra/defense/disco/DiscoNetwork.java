package org.lustra.defense.disco;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import java.util.Map;
import java.util.SplittableRandom;
import org.lustra.defense.learned.PurifierNetwork;
import org.lustra.nn.Layers;
import org.lustra.nn.LocalImplicitNet;
import org.lustra.nn.Scalars;
import org.lustra.util.Json;

/**
 * The network of the DISCO-style purifier (Ho and Vasconcelos, 2022; the seed's main non-diffusion baseline): an
 * EDSR-like encoder and a local implicit function head ({@link LocalImplicitNet}), trained with the ℓ1 distance to the
 * clean image on PGD pairs (the purification loss, seed Eq. 7).
 */
public final class DiscoNetwork implements PurifierNetwork {
    public static final String KIND = "disco";

    /** Sizes and image side; validated. */
    public record Config(LocalImplicitNet.Config net, int size) {
        public Config {
            if (net == null || size < 1) {
                throw new IllegalArgumentException("Invalid DISCO config: net " + net + ", size " + size);
            }
        }

        /**
         * A small EDSR for C×size×size images: width 32, 4 residual blocks, MLP 2×128 (DISCO uses EDSR-baseline, 64
         * wide with 16 blocks, and LIIF's 4×256 MLP, sized for colour images and a GPU). Measured at 28×28, one thread:
         * width 48 with 6 blocks took 3.1 s per training forward + backward of 64 images, compute-bound.
         */
        public static Config small(int channels, int size) {
            return new Config(new LocalImplicitNet.Config(channels, 32, 4, 128, 2), size);
        }

        public Map<String, Object> asCardFields() {
            return Json.toMap(this);
        }

        public static Config fromCardFields(Map<String, Object> fields) {
            return Json.fromMap(fields, Config.class);
        }
    }

    private final Config config;
    private final LocalImplicitNet net;
    private final NDManager manager;

    private DiscoNetwork(Config config, LocalImplicitNet net, NDManager manager) {
        this.config = config;
        this.net = net;
        this.manager = manager;
    }

    /**
     * A freshly initialised network whose parameters live in {@code manager} (which it then owns). Weights are normal
     * with variance 1/(3·fan-in), the scale of PyTorch's default convolution initialisation that EDSR and LIIF train
     * from; DJL's He-normal default (variance 2/fan-in) put the untrained output at std ≈ 8 on [0, 1] images, as the
     * encoder has no normalisation layer to rein in its residual sums.
     */
    public static DiscoNetwork create(Config config, NDManager manager, long seed) {
        LocalImplicitNet net = Layers.initialize(new LocalImplicitNet(config.net()), new XavierInitializer(
                XavierInitializer.RandomType.GAUSSIAN, XavierInitializer.FactorType.IN, 1f / 3), manager,
                config.net().channels(), config.size(), seed);
        return new DiscoNetwork(config, net, manager);
    }

    static DiscoNetwork fromCard(Map<String, Object> fields, NDManager manager) {
        return create(Config.fromCardFields(fields), manager, 0);
    }

    public Config config() {
        return config;
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
        return config.size();
    }

    /** Mean ℓ1 distance to the clean image; {@code rng} is not used (no random choice). */
    @Override
    public Loss loss(ParameterStore ps, NDArray adversarial, NDArray clean, SplittableRandom rng) {
        NDArray error = net.reconstruct(ps, adversarial, true).sub(clean).abs();
        NDArray l1 = Scalars.div(error.sum(), error.size());
        return new Loss(l1, Map.of());
    }

    @Override
    public NDArray reconstruct(ParameterStore ps, NDArray x) {
        return net.reconstruct(ps, x, false);
    }

    @Override
    public void close() {
        manager.close();
    }
}
