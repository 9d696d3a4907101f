package org.lustra.defense.sac;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import java.nio.file.Path;
import java.util.Map;
import org.lustra.defense.learned.LearnedModels;
import org.lustra.defense.learned.MaskNetwork;
import org.lustra.model.ModelCard;
import org.lustra.nn.Layers;
import org.lustra.nn.MaskUNet;
import org.lustra.util.Json;

/**
 * SAC's patch segmenter (Liu et al., 2022, §3.1): a network that gives each pixel a logit of "belongs to a pasted
 * patch". SAC uses an HRNet-sized U-Net for COCO; here a {@link MaskUNet} sized for 28×28 images. Model files follow
 * the trained purifiers' layout ({@link LearnedModels}: {@code models/NAME/weights.safetensors} and a card whose
 * training map holds the kind {@value #KIND} and the configuration), so the same one-sentence "not trained yet"
 * check serves {@code sac}. Owns its parameters' manager: close it when done.
 */
public final class PatchSegmenter implements MaskNetwork {
    public static final String KIND = "sac";
    public static final String DEFAULT_MODEL = "sac-fmnist";

    /** The network and the image side it was trained on; validated. */
    public record Config(MaskUNet.Config net, int size) {
        public Config {
            if (net == null || size < 1 || size % (1 << net.depth()) != 0) {
                throw new IllegalArgumentException("Invalid segmenter config: net " + net + ", size " + size
                        + " (a multiple of 2^depth)");
            }
        }

        /**
         * Width 16, depth 2 (≈ 1.2·10⁵ parameters): at 28×28 the bottom level sees 7×7, enough context for patches of
         * up to 15 % of the image. A placeholder size, not a measured optimum.
         */
        public static Config small(int channels, int size) {
            return new Config(new MaskUNet.Config(channels, 16, 2), size);
        }

        public Map<String, Object> asCardFields() {
            return Json.toMap(this);
        }

        public static Config fromCardFields(Map<String, Object> fields) {
            return Json.fromMap(fields, Config.class);
        }
    }

    private final Config config;
    private final MaskUNet net;
    private final NDManager manager;

    private PatchSegmenter(Config config, MaskUNet net, NDManager manager) {
        this.config = config;
        this.net = net;
        this.manager = manager;
    }

    /**
     * A freshly initialised segmenter whose parameters live in {@code manager} (which it then owns). Weights are
     * He-normal (variance 2/fan-in), set by type before {@code initialize} (README: initialisers set afterwards never
     * run), the scale that keeps ReLU activations from shrinking through a net without normalisation.
     */
    public static PatchSegmenter create(Config config, NDManager manager, long seed) {
        MaskUNet net = Layers.initialize(new MaskUNet(config.net()), Layers.heNormal(), manager,
                config.net().channels(), config.size(), seed);
        return new PatchSegmenter(config, net, manager);
    }

    /**
     * Loads {@code nameOrDir} (a name under models/ or a directory) after checking its card says {@value #KIND} and
     * its weights match the card's hash; parameters are frozen (gradients reach the input only).
     */
    public static PatchSegmenter load(String nameOrDir) {
        return LearnedModels.load(nameOrDir, KIND, (fields, manager) -> create(Config.fromCardFields(fields), manager, 0));
    }

    /** Writes weights and card; the card's training map gets the kind and configuration a loader needs. */
    public ModelCard save(ModelCard card, Path dir) {
        return LearnedModels.save(KIND, this, card, dir);
    }

    public Config config() {
        return config;
    }

    @Override
    public MaskUNet block() {
        return net;
    }

    @Override
    public Map<String, Object> configFields() {
        return config.asCardFields();
    }

    /** Per-pixel patch logits (N, 1, H, W) of x (N, C, H, W) in [0, 1]; owned by x's manager. */
    @Override
    public NDArray logits(ParameterStore ps, NDArray x, boolean training) {
        long[] s = x.getShape().getShape();
        if (s.length != 4 || s[1] != config.net().channels() || s[2] != config.size() || s[3] != config.size()) {
            throw new IllegalArgumentException("The patch segmenter takes (N, " + config.net().channels() + ", "
                    + config.size() + ", " + config.size() + ") images, got " + x.getShape());
        }
        return net.logits(ps, x, training);
    }

    @Override
    public void close() {
        manager.close();
    }
}
