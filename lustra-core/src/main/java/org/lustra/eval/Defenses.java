package org.lustra.eval;

import org.lustra.defense.Purifier;
import org.lustra.defense.classic.BitDepth;
import org.lustra.defense.classic.Jpeg;
import org.lustra.defense.classic.LocalGradientSmoothing;
import org.lustra.defense.classic.MedianSmoothing;
import org.lustra.util.LustraException;

/**
 * Defence specs of experiment configs and the CLI: none, jpeg:Q, median:K, bits:B, lgs, and DiffPure with the shipped
 * diffusion model as {@code diffpure:T} (DDPM from t* = T) or {@code diffpure:T:ddimN}.
 */
public final class Defenses {
    private Defenses() {}

    public static final String FORMS = "none, jpeg:Q (1..100), median:K (odd), bits:B (1..8), lgs, diffpure:T "
            + "(0 < T <= 1, DDPM) or diffpure:T:ddimN";

    /** Loaded once per process: every DiffPure spec shares the shipped model. */
    private static final java.util.Map<String, org.lustra.diffusion.DiffusionModel> MODELS =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Validates a spec without loading any model; returns it. */
    public static String check(String spec) {
        if (spec != null && spec.startsWith("diffpure:")) {
            diffPureOptions(spec);
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
