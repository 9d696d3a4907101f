package org.lustra.defense;

import java.util.List;
import java.util.function.Supplier;
import org.lustra.defense.jedi.Jedi;
import org.lustra.defense.jedi.JediAutoencoder;
import org.lustra.defense.learned.LearnedModels;
import org.lustra.defense.sac.PatchSegmenter;
import org.lustra.defense.sac.SegmentAndComplete;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.util.LustraException;

/**
 * The specs of the detect-and-remove patch baselines of DIFFender's Table 1 that need no classifier: SAC-like
 * {@code sac[:NAME][:options]} (NAME a trained segmenter under models/ or a model directory, default
 * {@value PatchSegmenter#DEFAULT_MODEL}; parsing checks that it has been trained and loads nothing) and Jedi
 * {@code jedi[:NAME|:morph][:options]} (with its mask autoencoder when one is trained, else morphology). Every default is a placeholder until chosen on {@code data/validation}.
 */
public final class PatchRemovalSpecs {
    static final String FORM = SegmentAndComplete.Options.FORM + ", " + Jedi.Options.FORM;

    private PatchRemovalSpecs() {}

    /** SAC-like segment, complete and remove with the segmenter of models/{@code model}. */
    public record SacSpec(String text, String model, SegmentAndComplete.Options options) implements DefenseSpec {
        @Override
        public List<String> trainedModels() {
            return List.of(model);
        }

        @Override
        public Purifier build(Supplier<DiffusionModel> diffusionModel) {
            return new SegmentAndComplete(text, PatchSegmenter.load(model), options);
        }

        static SacSpec parse(String spec) {
            String[] p = spec.split(":", -1);
            int first = p.length > 1 && !SegmentAndComplete.Options.isOption(p[1]) ? 2 : 1;
            String model = first == 2 ? p[1] : PatchSegmenter.DEFAULT_MODEL;
            SegmentAndComplete.Options o = SegmentAndComplete.Options.placeholder();
            try {
                if (model.isEmpty()) {
                    throw new IllegalArgumentException("empty model name");
                }
                for (int i = first; i < p.length; i++) {
                    o = o.with(p[i]);
                }
            } catch (IllegalArgumentException e) {
                throw new LustraException("Invalid defence '" + spec + "' (" + e.getMessage() + "); use "
                        + SegmentAndComplete.Options.FORM + ", e.g. sac:tau0.6:gamma0.3:telea3");
            }
            LearnedModels.requireTrained(model, PatchSegmenter.KIND);
            return new SacSpec(spec, model, o);
        }
    }

    /**
     * Jedi: local entropy, kernel threshold, the mask autoencoder of models/{@code model} (null: the morphology
     * variant), Telea.
     */
    public record JediSpec(String text, Jedi.Options options, String model) implements DefenseSpec {
        @Override
        public List<String> trainedModels() {
            return model == null ? List.of() : List.of(model);
        }

        @Override
        public Purifier build(Supplier<DiffusionModel> diffusionModel) {
            return new Jedi(options, model == null ? null : JediAutoencoder.load(model));
        }

        /**
         * {@code jedi[:NAME|:morph][:options]}: NAME a trained autoencoder; {@code morph} the morphology ablation; neither
         * means the autoencoder {@value JediAutoencoder#DEFAULT_MODEL} if it has been trained, else morphology.
         */
        static JediSpec parse(String spec) {
            String[] p = spec.split(":", -1);
            try {
                int first = p.length > 1 && !Jedi.Options.isOption(p[1]) ? 2 : 1;
                String named = first == 2 ? p[1] : null;
                if (named != null && named.isEmpty()) {
                    throw new IllegalArgumentException("empty model name");
                }
                boolean morph = "morph".equals(named);
                String model = morph ? null : named != null ? named
                        : LearnedModels.exists(JediAutoencoder.DEFAULT_MODEL) ? JediAutoencoder.DEFAULT_MODEL : null;
                String[] tokens = java.util.Arrays.copyOfRange(p, first, p.length);
                for (String t : tokens) {
                    boolean morphOnly = t.matches("r\\d+|bins\\d+|open\\d+|close\\d+|theta.*");
                    if (model != null && morphOnly) {
                        throw new IllegalArgumentException(t + " does not apply to the autoencoder variant (it takes "
                                + "r, bins and theta from its model card); add :morph for the morphology variant");
                    }
                    if (model == null && t.startsWith("tau")) {
                        throw new IllegalArgumentException(t + " applies to the autoencoder variant only, and none is "
                                + "in use");
                    }
                }
                Jedi.Options o = Jedi.Options.parse(tokens);
                if (named != null && !morph) {
                    LearnedModels.requireTrained(model, JediAutoencoder.KIND);
                }
                return new JediSpec(spec, o, model);
            } catch (IllegalArgumentException e) {
                throw new LustraException("Invalid defence '" + spec + "' (" + e.getMessage() + "); use "
                        + Jedi.Options.FORM + ", e.g. jedi:tau0.5 or jedi:morph:r2:bins16:theta0.7");
            }
        }
    }
}
