package org.lustra.defense;

import java.util.function.Supplier;
import org.lustra.defense.jedi.Jedi;
import org.lustra.defense.learned.LearnedModels;
import org.lustra.defense.sac.PatchSegmenter;
import org.lustra.defense.sac.SegmentAndComplete;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.util.LustraException;

/**
 * The specs of the detect-and-remove patch baselines of DIFFender's Table 1 that need no classifier: SAC-like
 * {@code sac[:NAME][:options]} (NAME a trained segmenter under models/ or a model directory, default
 * {@value PatchSegmenter#DEFAULT_MODEL}; parsing checks that it has been trained and loads nothing) and Jedi
 * {@code jedi[:options]}. Every default is a placeholder until chosen on {@code data/validation}.
 */
public final class PatchRemovalSpecs {
    static final String FORM = SegmentAndComplete.Options.FORM + ", " + Jedi.Options.FORM;

    private PatchRemovalSpecs() {}

    /** SAC-like segment, complete and remove with the segmenter of models/{@code model}. */
    public record SacSpec(String text, String model, SegmentAndComplete.Options options) implements DefenseSpec {
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

    /** Jedi: local entropy, threshold, morphology, Telea. */
    public record JediSpec(String text, Jedi.Options options) implements DefenseSpec {
        @Override
        public Purifier build(Supplier<DiffusionModel> diffusionModel) {
            return new Jedi(options);
        }

        static JediSpec parse(String spec) {
            try {
                return new JediSpec(spec, Jedi.Options.parse(spec));
            } catch (IllegalArgumentException e) {
                throw new LustraException("Invalid defence '" + spec + "' (" + e.getMessage() + "); use "
                        + Jedi.Options.FORM + ", e.g. jedi:r2:bins16:theta0.7");
            }
        }
    }
}
