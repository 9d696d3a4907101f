package org.lustra.defense.jedi;

import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.lustra.defense.learned.MaskTraining;
import org.lustra.defense.sac.TrainingPatches;
import org.lustra.model.ModelCard;

/**
 * Trains Jedi's {@link JediAutoencoder} (Tarchoun et al., 2023, §3.2: an autoencoder trained on synthetic masks) on
 * synthetic pairs made on the fly: a training image with a pasted patch of varied content, shape and size, or none
 * ({@link TrainingPatches}, the SAC segmenter's synthesis: noise, blocky noise, natural crops, LaVAN patches), its
 * high-entropy kernel map computed with the autoencoder's own entropy settings as input, and the true pasted mask as
 * target. Clean images (an empty target) teach it to drop the kernels of natural texture. Per-pixel binary
 * cross-entropy in the resumable loop of {@link MaskTraining} (random stream {@value #STREAM}).
 */
public final class JediTraining {
    public static final String ROLE = "Jedi mask autoencoder: per-pixel patch logits from a high-entropy kernel map";
    static final String STREAM = "jedi-training";
    private static final MaskTraining LOOP = new MaskTraining("jedi", STREAM);

    private JediTraining() {}

    /** Trains {@code autoencoder} (freshly initialised by the caller) in place. */
    public static MaskTraining.Result train(JediAutoencoder autoencoder, TrainingPatches data, MaskTraining.Options opt,
            Path checkpointDir, Consumer<String> log) {
        return train(autoencoder, data, opt, checkpointDir, log, Long.MAX_VALUE);
    }

    /** As above, stopping after {@code stopAfterStep} steps with a checkpoint, as a killed run would. */
    static MaskTraining.Result train(JediAutoencoder autoencoder, TrainingPatches data, MaskTraining.Options opt,
            Path checkpointDir, Consumer<String> log, long stopAfterStep) {
        return LOOP.train(autoencoder, examples(autoencoder, data), opt, checkpointDir, log, stopAfterStep);
    }

    /** (kernel map, pasted mask) pairs of {@code data}; refuses images of another side. */
    static MaskTraining.Examples examples(JediAutoencoder autoencoder, TrainingPatches data) {
        int size = autoencoder.config().size();
        int c = data.images().channels();
        if (data.images().height() != size || data.images().width() != size) {
            throw new IllegalArgumentException("Training images are " + data.images().height() + "x"
                    + data.images().width() + " but the Jedi autoencoder expects " + size + "x" + size + ".");
        }
        return data.examples(new Shape(1, size, size), (images, n) -> autoencoder.kernelMaps(images, n, c));
    }

    /** The model card of a finished run (options, patch synthesis, history, wall time). */
    public static ModelCard card(String name, MaskTraining.Result r, MaskTraining.Options opt, TrainingPatches patches,
            String bank, String data, String split, String command) {
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("inputs", "high-entropy kernel-centre map of each example (EntropyMap.kernels with the network's "
                + "radius, bins and theta); target: the true pasted mask (all zero for clean examples)");
        training.putAll(patches.cardFields(bank));
        return LOOP.card(name, ROLE, r, opt, training, data, split, command);
    }
}
