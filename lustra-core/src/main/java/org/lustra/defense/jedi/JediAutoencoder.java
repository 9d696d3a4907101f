package org.lustra.defense.jedi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.lustra.defense.learned.LearnedModels;
import org.lustra.defense.learned.MaskNetwork;
import org.lustra.model.ModelCard;
import org.lustra.nn.ConvAutoencoder;
import org.lustra.nn.Layers;
import org.lustra.util.Json;

/**
 * Jedi's mask autoencoder (Tarchoun et al., CVPR 2023, §3.2): it takes the sparse map of high-entropy kernel centres
 * of an image and returns a logit per pixel of "inside the patch", completing the scattered kernels of a patch into a
 * patch-shaped region and dropping the isolated kernels of natural texture. A {@link ConvAutoencoder} without skips,
 * trained ({@link JediTraining}) on synthetic pairs: the kernel map of a training image with a pasted patch, and the
 * pasted mask. The entropy settings (window radius, bins, θ) are part of its configuration: it has learnt maps made
 * with them, so Jedi computes its input with the same ones. Model files follow {@link LearnedModels} with kind
 * {@value #KIND}. Owns its parameters' manager: close it when done.
 */
public final class JediAutoencoder implements MaskNetwork {
    public static final String KIND = "jedi";
    public static final String DEFAULT_MODEL = "jedi-autoencoder";

    /**
     * The network, the image side, and the kernel-map settings of its input; validated.
     *
     * @param net the autoencoder (1 input channel: the kernel map)
     * @param size image side
     * @param radius entropy window radius r
     * @param bins histogram bins
     * @param theta share of the maximum window entropy above which a window is a kernel
     */
    public record Config(ConvAutoencoder.Config net, int size, int radius, int bins, double theta) {
        public Config {
            if (net == null || net.channels() != 1 || size < 1 || size % (1 << net.depth()) != 0 || radius < 1
                    || radius > 32 || bins < 2 || bins > 256 || !(theta > 0 && theta <= 1)) {
                throw new IllegalArgumentException("Invalid Jedi autoencoder config: net " + net + " (1 channel), size "
                        + size + " (a multiple of 2^depth), r " + radius + " (1..32), bins " + bins + " (2..256), theta "
                        + theta + " (0 < theta <= 1)");
            }
        }

        /**
         * Width 16, depth 2 (≈ 4.6·10⁴ parameters; the bottleneck sees 7×7 at 28×28) on 5×5-window, 16-bin kernel maps
         * at θ = 0.7 (Jedi's placeholder threshold). Not a measured optimum.
         */
        public static Config small(int size) {
            return new Config(new ConvAutoencoder.Config(1, 16, 2), size, 2, 16, 0.7);
        }

        public Map<String, Object> asCardFields() {
            return Json.toMap(this);
        }

        public static Config fromCardFields(Map<String, Object> fields) {
            return Json.fromMap(fields, Config.class);
        }
    }

    private final Config config;
    private final ConvAutoencoder net;
    private final NDManager manager;

    private JediAutoencoder(Config config, ConvAutoencoder net, NDManager manager) {
        this.config = config;
        this.net = net;
        this.manager = manager;
    }

    /** A freshly initialised autoencoder (He-normal weights, set by type before initialize) owning {@code manager}. */
    public static JediAutoencoder create(Config config, NDManager manager, long seed) {
        ConvAutoencoder net = Layers.initialize(new ConvAutoencoder(config.net()), Layers.heNormal(), manager, 1,
                config.size(), seed);
        return new JediAutoencoder(config, net, manager);
    }

    /** Loads {@code nameOrDir} (a name under models/ or a directory), checking kind and weight hash; frozen. */
    public static JediAutoencoder load(String nameOrDir) {
        return LearnedModels.load(nameOrDir, KIND, (fields, m) -> create(Config.fromCardFields(fields), m, 0));
    }

    /** Writes weights and card; the card's training map gets the kind and configuration a loader needs. */
    public ModelCard save(ModelCard card, Path dir) {
        return LearnedModels.save(KIND, this, card, dir);
    }

    public Config config() {
        return config;
    }

    @Override
    public ConvAutoencoder block() {
        return net;
    }

    @Override
    public Map<String, Object> configFields() {
        return config.asCardFields();
    }

    /**
     * The kernel maps (n·H·W, 0/1) of n images (n·C·H·W, channel-major, [0, 1]) with this autoencoder's entropy
     * settings: the network's input.
     */
    public float[] kernelMaps(float[] images, int n, int c) {
        int h = config.size();
        int plane = h * h;
        if (images.length != n * c * plane) {
            throw new IllegalArgumentException("Invalid images: " + images.length + " values for " + n + "×" + c + "×"
                    + h + "×" + h);
        }
        float[] out = new float[n * plane];
        for (int i = 0; i < n; i++) {
            float[] grey = EntropyMap.grey(Arrays.copyOfRange(images, i * c * plane, (i + 1) * c * plane), c, h, h);
            boolean[] k = EntropyMap.kernels(EntropyMap.compute(grey, h, h, config.radius(), config.bins()),
                    config.radius(), config.bins(), config.theta());
            for (int p = 0; p < plane; p++) {
                out[i * plane + p] = k[p] ? 1f : 0f;
            }
        }
        return out;
    }

    /** Per-pixel patch logits (N, 1, H, W) of kernel maps (N, 1, H, W); owned by their manager. */
    @Override
    public NDArray logits(ParameterStore ps, NDArray kernelMaps, boolean training) {
        long[] s = kernelMaps.getShape().getShape();
        if (s.length != 4 || s[1] != 1 || s[2] != config.size() || s[3] != config.size()) {
            throw new IllegalArgumentException("The Jedi autoencoder takes (N, 1, " + config.size() + ", "
                    + config.size() + ") kernel maps, got " + kernelMaps.getShape());
        }
        return net.logits(ps, kernelMaps, training);
    }

    @Override
    public void close() {
        manager.close();
    }
}
