package org.lustra.defense;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.lustra.defense.diffender.Diffender;
import org.lustra.defense.diffender.PatchLocalizer;
import org.lustra.defense.diffender.Prompt;
import org.lustra.defense.diffender.TunedPrompts;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.util.LustraException;

/**
 * DIFFender on the shipped diffusion model. With {@code tunedPrompts} the shipped tuned prompts replace both
 * prompts of {@code options} when the purifier is built.
 */
public record DiffenderSpec(String text, Diffender.Options options, boolean tunedPrompts) implements DefenseSpec {
    @Override
    public boolean usesDiffusionModel() {
        return true;
    }

    @Override
    public Optional<DiffenderSpec> asDiffender() {
        return Optional.of(this);
    }

    @Override
    public List<String> trainedModels() {
        return tunedPrompts ? List.of(TunedPrompts.NAME) : List.of();
    }

    @Override
    public Purifier build(Supplier<DiffusionModel> diffusionModel) {
        return new Diffender(diffusionModel.get(), options(diffusionModel.get()));
    }

    /** The options with the tuned prompts loaded for {@code model}'s encoder (when the spec asks for them). */
    public Diffender.Options options(DiffusionModel model) {
        if (!tunedPrompts) {
            return options;
        }
        Prompt[] pr = TunedPrompts.load(TunedPrompts.NAME, model);
        return options.withPrompts(pr[0], pr[1]);
    }

    static DiffenderSpec parse(String spec) {
        Diffender.Options o = Diffender.Options.manual();
        String[] p = spec.split(":");
        boolean tuned = false;
        try {
            for (int i = 1; i < p.length; i++) {
                String v = p[i];
                PatchLocalizer.Options loc = o.localization();
                if (v.equals("ep")) {
                    o = o.withPrompts(Prompt.empty(), Prompt.empty())
                            .withLocalization(loc.withIndependentNoise(true))
                            .withRestoration(o.restoreSteps(), 1.0, o.strength());
                } else if (v.equals("mp")) {
                    o = o.withPrompts(Prompt.text(Diffender.MANUAL_L), Prompt.text(Diffender.MANUAL_R));
                } else if (v.equals("tuned")) {
                    tuned = true;
                } else if (v.equals("clip")) { // the pre-December localisation: x̂0 clipped before differencing
                    o = o.withLocalization(loc.withClipX0(true));
                } else if (v.equals("rec")) {
                    o = o.withLocalization(loc.withSignal(PatchLocalizer.Signal.RECONSTRUCTION));
                } else if (v.startsWith("abar")) {
                    o = o.withLocalization(loc.withAlphaBar(Double.parseDouble(v.substring(4))));
                } else if (v.equals("nr")) {
                    o = o.withRestore(false);
                } else if (v.matches("ddim\\d+")) {
                    o = o.withRestoration(Integer.parseInt(v.substring(4)), o.restoreGuidance(), o.strength());
                } else if (v.startsWith("floor")) {
                    o = o.withLocalization(loc.withFloor(Double.parseDouble(v.substring(5))));
                } else if (v.startsWith("theta")) {
                    o = o.withLocalization(loc.withTheta(Double.parseDouble(v.substring(5))));
                } else if (v.startsWith("g")) {
                    o = o.withLocalization(loc.withGuidance(Double.parseDouble(v.substring(1))));
                } else {
                    throw new IllegalArgumentException("unknown option " + v);
                }
            }
            if (tuned) {
                TunedPrompts.requireShipped();
            }
            return new DiffenderSpec(spec, o, tuned);
        } catch (IllegalArgumentException e) {
            throw new LustraException("Invalid defence '" + spec + "' (" + e.getMessage() + "); use diffender "
                    + "with options separated by ':' — ep|mp|tuned, rec, clip, nr, ddimN, thetaX, floorX, gX, abarX — e.g. "
                    + "diffender:ep:rec:abar0.7");
        }
    }
}
