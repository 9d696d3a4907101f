package org.lustra.eval.worst;

import java.util.Locale;
import org.lustra.eval.Experiment;

/**
 * What an attacker may change in an image — the budget, whatever the attack: a patch covering {@code size} of the
 * image, or a perturbation of norm {@code norm} at most {@code size}. Attacks with one threat compete for the same
 * images: PGD, AutoAttack, a black-box search and a transferred perturbation at ℓ∞ 8/255 are four tries of one
 * attacker. Sizes are rounded as cell ids round them (a config's 0.0313725 and 0.0314 are one budget).
 *
 * @param norm {@code patch}, or the perturbation norm ({@code linf}, {@code l2})
 * @param size the patch's share of the image, or ε
 */
public record Threat(String norm, double size) {
    static final String PATCH = "patch";

    public Threat {
        if (norm == null || norm.isBlank() || !(size > 0) || !Double.isFinite(size)) {
            throw new IllegalArgumentException("Invalid threat: norm " + norm + ", size " + size
                    + " (a norm name and a finite size above 0)");
        }
        double scale = norm.equals(PATCH) ? 1e3 : 1e4;
        size = Math.round(size * scale) / scale;
    }

    /** The threat of one expanded attack of an experiment. */
    public static Threat of(Experiment.AttackSpec a) {
        return a.patch() ? new Threat(PATCH, a.fraction()) : new Threat(a.norm(), a.eps());
    }

    /** E.g. {@code ℓ∞ ε = 0.0314 (8/255)}, {@code ℓ2 ε = 0.5000}, {@code patch 5.0 % of the image}. */
    public String label() {
        if (norm.equals(PATCH)) {
            return String.format(Locale.ROOT, "patch %.1f %% of the image", 100 * size);
        }
        String name = switch (norm) {
            case "linf" -> "ℓ∞";
            case "l2" -> "ℓ2";
            default -> norm;
        };
        long levels = Math.round(size * 255);
        // budgets set as k/255 (8/255) read better as such; 0.1 is not one
        String of255 = levels > 0 && Math.abs(size - levels / 255.0) < 5e-5 ? " (" + levels + "/255)" : "";
        return String.format(Locale.ROOT, "%s ε = %.4f%s", name, size, of255);
    }
}
