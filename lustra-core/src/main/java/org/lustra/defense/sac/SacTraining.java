package org.lustra.defense.sac;

import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.lustra.defense.learned.MaskTraining;
import org.lustra.model.ModelCard;

/**
 * Trains SAC's {@link PatchSegmenter} (Liu et al., 2022, §3.2: pixel-wise binary cross-entropy between the predicted
 * and the true patch mask) on {@link TrainingPatches}, with the resumable loop of {@link MaskTraining} (random stream
 * {@value #STREAM}). SAC's second stage, self-adversarial training against an attacker that targets the segmenter, is
 * not done here (left open).
 */
public final class SacTraining {
    public static final String ROLE = "SAC-like patch segmenter: per-pixel logits of pasted-patch membership";
    static final String STREAM = "sac-training";
    private static final MaskTraining LOOP = new MaskTraining("sac", STREAM);

    private SacTraining() {}

    /** Trains {@code segmenter} (freshly initialised by the caller) in place. */
    public static MaskTraining.Result train(PatchSegmenter segmenter, TrainingPatches data, MaskTraining.Options opt,
            Path checkpointDir, Consumer<String> log) {
        return train(segmenter, data, opt, checkpointDir, log, Long.MAX_VALUE);
    }

    /** As above, stopping after {@code stopAfterStep} steps with a checkpoint, as a killed run would. */
    static MaskTraining.Result train(PatchSegmenter segmenter, TrainingPatches data, MaskTraining.Options opt,
            Path checkpointDir, Consumer<String> log, long stopAfterStep) {
        return LOOP.train(segmenter, examples(segmenter.config(), data), opt, checkpointDir, log, stopAfterStep);
    }

    /** The training images with pasted patches as the segmenter sees them; refuses images it does not take. */
    static MaskTraining.Examples examples(PatchSegmenter.Config cfg, TrainingPatches data) {
        if (data.images().channels() != cfg.net().channels() || data.images().height() != cfg.size()
                || data.images().width() != cfg.size()) {
            throw new IllegalArgumentException("Training images are " + data.images().channels() + "x"
                    + data.images().height() + "x" + data.images().width() + " but the segmenter expects "
                    + cfg.net().channels() + "x" + cfg.size() + "x" + cfg.size() + ".");
        }
        return data.examples(new Shape(data.images().channels(), data.images().height(), data.images().width()),
                (images, n) -> images);
    }

    /**
     * The model card of a finished run: options, patch synthesis, run length, history and wall time; {@code data} and
     * {@code split} say which images trained it, {@code bank} how the adversarial patches were made.
     */
    public static ModelCard card(String name, MaskTraining.Result r, MaskTraining.Options opt, TrainingPatches patches,
            String bank, String data, String split, String command) {
        return LOOP.card(name, ROLE, r, opt, patches.cardFields(bank), data, split, command);
    }
}
