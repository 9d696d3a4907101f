package org.lustra.eval;

import org.lustra.defense.Purifier;
import org.lustra.defense.classic.BitDepth;
import org.lustra.defense.classic.Jpeg;
import org.lustra.defense.classic.LocalGradientSmoothing;
import org.lustra.defense.classic.MedianSmoothing;
import org.lustra.util.LustraException;

/**
 * Defence specs of experiment configs and the CLI: none, jpeg:Q, median:K, bits:B, lgs, DiffPure with the shipped
 * diffusion model as {@code diffpure:T} (DDPM from t* = T) or {@code diffpure:T:ddimN}, and DIFFender as
 * {@code diffender} followed by options separated by ':' — {@code ep} (empty prompts), {@code mp} (manual prompts,
 * the default) or {@code tuned} (the prompts of {@code models/prompts-diffender}), {@code nr} (no restoration),
 * {@code ddimN} (restoration steps), {@code thetaX} (z-score threshold),
 * {@code gX} (localisation guidance), {@code abarX} (localisation noise level ᾱ), {@code rec} (our reconstruction-error
 * signal instead of the paper's guidance difference), e.g. {@code diffender:mp:theta2.5:ddim10}.
 */
public final class Defenses {
    private Defenses() {}

    public static final String FORMS = "none, jpeg:Q (1..100), median:K (odd), bits:B (1..8), lgs, diffpure:T "
            + "(0 < T <= 1, DDPM) or diffpure:T:ddimN, "
            + "diffender[:ep|:mp|:tuned][:rec][:nr][:ddimN][:thetaX][:gX][:abarX]";

    /** Loaded once per process: every DiffPure spec shares the shipped model. */
    private static final java.util.Map<String, org.lustra.diffusion.DiffusionModel> MODELS =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Validates a spec without loading any model; returns it. */
    public static String check(String spec) {
        if (spec != null && spec.startsWith("diffpure:")) {
            diffPureOptions(spec);
            return spec;
        }
        if (spec != null && (spec.equals("diffender") || spec.startsWith("diffender:"))) {
            diffenderOptions(spec, false);
            return spec;
        }
        parse(spec);
        return spec;
    }

    private static org.lustra.defense.diffpure.DiffPure.Options diffPureOptions(String spec) {
        String[] p = spec.split(":");
        try {
            double t = Double.parseDouble(p[1]);
            if (p.length == 2) {
                return org.lustra.defense.diffpure.DiffPure.Options.ddpm(t);
            }
            if (p.length == 3 && p[2].matches("ddim\\d+")) {
                return org.lustra.defense.diffpure.DiffPure.Options.ddim(t, Integer.parseInt(p[2].substring(4)));
            }
        } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
            // fall through to the message
        }
        throw new LustraException("Invalid defence '" + spec + "'; use diffpure:T (e.g. diffpure:0.1) or "
                + "diffpure:T:ddimN (e.g. diffpure:0.1:ddim10)");
    }

    /** DIFFender options of a spec; with {@code load} false the tuned prompts are only looked for, not loaded. */
    static org.lustra.defense.diffender.Diffender.Options diffenderOptions(String spec, boolean load) {
        org.lustra.defense.diffender.Diffender.Options o = org.lustra.defense.diffender.Diffender.Options.manual();
        String[] p = spec.split(":");
        boolean tuned = false;
        try {
            for (int i = 1; i < p.length; i++) {
                String v = p[i];
                org.lustra.defense.diffender.PatchLocalizer.Options loc = o.localization();
                if (v.equals("ep")) {
                    o = o.withPrompts(org.lustra.defense.diffender.Prompt.empty(),
                            org.lustra.defense.diffender.Prompt.empty()).withLocalization(loc.withIndependentNoise(true))
                            .withRestoration(o.restoreSteps(), 1.0, o.strength());
                } else if (v.equals("mp")) {
                    o = o.withPrompts(org.lustra.defense.diffender.Prompt.text(
                            org.lustra.defense.diffender.Diffender.MANUAL_L), org.lustra.defense.diffender.Prompt.text(
                            org.lustra.defense.diffender.Diffender.MANUAL_R));
                } else if (v.equals("tuned")) {
                    tuned = true;
                } else if (v.equals("rec")) {
                    o = o.withLocalization(loc.withSignal(
                            org.lustra.defense.diffender.PatchLocalizer.Signal.RECONSTRUCTION));
                } else if (v.startsWith("abar")) {
                    o = o.withLocalization(loc.withAlphaBar(Double.parseDouble(v.substring(4))));
                } else if (v.equals("nr")) {
                    o = o.withRestore(false);
                } else if (v.matches("ddim\\d+")) {
                    o = o.withRestoration(Integer.parseInt(v.substring(4)), o.restoreGuidance(), o.strength());
                } else if (v.startsWith("theta")) {
                    o = o.withLocalization(loc.withTheta(Double.parseDouble(v.substring(5))));
                } else if (v.startsWith("g")) {
                    o = o.withLocalization(loc.withGuidance(Double.parseDouble(v.substring(1))));
                } else {
                    throw new IllegalArgumentException("unknown option " + v);
                }
            }
            if (tuned && !load) {
                org.lustra.defense.diffender.TunedPrompts.requireShipped();
            } else if (tuned) { // the shipped tuned prompts replace both prompts (loaded with the diffusion model)
                org.lustra.defense.diffender.Prompt[] pr = org.lustra.defense.diffender.TunedPrompts.load(
                        org.lustra.defense.diffender.TunedPrompts.NAME, MODELS.computeIfAbsent("diffusion-unified",
                                org.lustra.diffusion.DiffusionModel::load));
                o = o.withPrompts(pr[0], pr[1]);
            }
            return o;
        } catch (IllegalArgumentException e) {
            throw new LustraException("Invalid defence '" + spec + "' (" + e.getMessage() + "); use diffender with "
                    + "options separated by ':' — ep|mp|tuned, rec, nr, ddimN, thetaX, gX, abarX — e.g. "
                    + "diffender:ep:rec:abar0.7");
        }
    }

    /** The purifier for {@code spec}, or null for {@code none}. */
    public static Purifier parse(String spec) {
        if (spec == null) {
            throw new LustraException("Missing defence; use one of " + FORMS);
        }
        if (spec.equals("none")) {
            return null;
        }
        if (spec.startsWith("diffpure:")) {
            org.lustra.defense.diffpure.DiffPure.Options o = diffPureOptions(spec);
            return new org.lustra.defense.diffpure.DiffPure(MODELS.computeIfAbsent("diffusion-unified",
                    org.lustra.diffusion.DiffusionModel::load), o);
        }
        if (spec.equals("diffender") || spec.startsWith("diffender:")) {
            return new org.lustra.defense.diffender.Diffender(MODELS.computeIfAbsent("diffusion-unified",
                    org.lustra.diffusion.DiffusionModel::load), diffenderOptions(spec, true));
        }
        if (spec.equals("lgs")) {
            return LocalGradientSmoothing.defaults();
        }
        String[] p = spec.split(":");
        if (p.length == 2 && p[1].matches("\\d{1,3}")) {
            int v = Integer.parseInt(p[1]);
            try {
                switch (p[0]) {
                    case "jpeg":
                        return new Jpeg(v);
                    case "median":
                        return new MedianSmoothing(v);
                    case "bits":
                        return new BitDepth(v);
                    default:
                        break;
                }
            } catch (IllegalArgumentException e) {
                throw new LustraException("Invalid defence '" + spec + "': " + e.getMessage());
            }
        }
        throw new LustraException("Unknown defence '" + spec + "'; use one of " + FORMS);
    }
}
