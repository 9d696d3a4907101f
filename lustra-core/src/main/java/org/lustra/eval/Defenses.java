package org.lustra.eval;

import org.lustra.defense.Purifier;
import org.lustra.defense.classic.BitDepth;
import org.lustra.defense.classic.Jpeg;
import org.lustra.defense.classic.LocalGradientSmoothing;
import org.lustra.defense.classic.MedianSmoothing;
import org.lustra.util.LustraException;

/** Defence specs of experiment configs and the CLI: none, jpeg:Q, median:K, bits:B, lgs. */
public final class Defenses {
    private Defenses() {}

    public static final String FORMS = "none, jpeg:Q (1..100), median:K (odd), bits:B (1..8), lgs";

    /** The purifier for {@code spec}, or null for {@code none}. */
    public static Purifier parse(String spec) {
        if (spec == null) {
            throw new LustraException("Missing defence; use one of " + FORMS);
        }
        if (spec.equals("none")) {
            return null;
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
