package org.lustra.eval;

import java.util.ArrayList;
import java.util.List;
import org.lustra.defense.DetectingPurifier;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Identity;
import org.lustra.defense.Purifier;
import org.lustra.util.LustraException;

/**
 * Which routes an experiment's cells take through their defence, from its "gradient" setting and profile: one route,
 * every declared route for worst-of, the detector-aware extra route, and restarts. Kept apart from the runner so that
 * running and labelling a cell ask one place.
 */
final class RoutePlan {
    private final String gradient;
    private final AttackRegistry.Profile profile;
    private final boolean fullLength;

    RoutePlan(String gradient, AttackRegistry.Profile profile) {
        this(gradient, profile, false);
    }

    /** {@code fullLength}: non-adaptive and undefended cells run every iteration (the experiment's "fullLength"). */
    RoutePlan(String gradient, AttackRegistry.Profile profile, boolean fullLength) {
        this.gradient = gradient;
        this.profile = profile;
        this.fullLength = fullLength;
    }

    /** The gradient mode adaptive attacks use through {@code p}, from the experiment's "gradient" setting. */
    GradientMode adaptiveMode(Purifier p) {
        GradientMode m = switch (gradient.equals("worst-of") ? "auto" : gradient) {
            case "exact" -> GradientMode.EXACT;
            case "surrogate" -> GradientMode.SURROGATE;
            case "bpda" -> GradientMode.BPDA;
            case "ste" -> GradientMode.STE;
            case "masked" -> GradientMode.MASKED;
            default -> p.gradientModes().contains(GradientMode.EXACT) ? GradientMode.EXACT
                    : p.gradientModes().contains(GradientMode.STE) ? GradientMode.STE : GradientMode.BPDA;
        };
        if (!p.gradientModes().contains(m)) {
            throw new LustraException("Defence " + p.name() + " does not support gradient mode " + m + " (it supports "
                    + p.gradientModes() + "); set \"gradient\" to auto or one of those.");
        }
        return m;
    }

    /** The one route a cell is both run and labelled with (the first of {@link #routes} for worst-of). */
    Route route(Experiment.Cell cell, Purifier p) {
        boolean adaptive = !(p instanceof Identity) && cell.adaptive();
        if (adaptive && p instanceof DetectingPurifier && cell.attack().attack().equals(Route.EVADE)) {
            // the attack's gradient is its own (detector and classifier); the route carries its K-vote forwards only
            return Route.of(p, true, GradientMode.BPDA, eot(cell.attack(), p), votes(p)).withAttack(Route.EVADE);
        }
        Route r = Route.of(p, adaptive, adaptive ? adaptiveMode(p) : GradientMode.EXACT, eot(cell.attack(), p),
                votes(p));
        return fullLength && !adaptive ? r.withFullLength() : r;
    }

    /**
     * The routes a cell runs: one, or for "worst-of" on an adaptive gradient attack every mode the defence offers
     * (EXACT, SURROGATE, STE, MASKED, BPDA in that order) — and for a LaVAN cell against a defence with a detector
     * also the localiser-aware {@code evade-lavan} on the same budget, so the per-image worst covers the seed's attack,
     * the corrected surrogate and evade-then-fool (issue 11, 3a–c). Black-box attacks ({@code blackBox}) need no
     * gradient and run once, as does an attack whose gradient is its own (evade-lavan against a detector). An adaptive
     * cell whose attack asks for restarts runs all of those routes once per restart (restart-major: the first block is
     * the attack's first run).
     */
    List<Route> routes(Experiment.Cell cell, Purifier p, boolean blackBox) {
        List<Route> once = routesOfOneRun(cell, p, blackBox);
        // a non-adaptive attacker does not see the defence, so it could not pick among restarts by it: runs once
        int restarts = cell.adaptive() ? cell.attack().restartCount() : 1;
        if (restarts == 1) {
            return once;
        }
        List<Route> out = new ArrayList<>();
        for (int k = 0; k < restarts; k++) {
            for (Route r : once) {
                out.add(r.withRestart(k));
            }
        }
        return out;
    }

    private List<Route> routesOfOneRun(Experiment.Cell cell, Purifier p, boolean blackBox) {
        Route first = route(cell, p);
        if (!gradient.equals("worst-of") || !first.adaptive() || blackBox || first.attack() != null) {
            return List.of(first);
        }
        List<Route> out = new ArrayList<>();
        for (GradientMode m : List.of(GradientMode.EXACT, GradientMode.SURROGATE, GradientMode.STE,
                GradientMode.MASKED, GradientMode.BPDA)) {
            if (p.gradientModes().contains(m)) {
                out.add(Route.of(p, true, m, eot(cell.attack(), p), votes(p)));
            }
        }
        if (p instanceof DetectingPurifier && cell.attack().attack().equals("lavan")) {
            out.add(Route.of(p, true, GradientMode.BPDA, eot(cell.attack(), p), votes(p)).withAttack(Route.EVADE));
        }
        return out;
    }

    /** EOT copies per gradient: 1 for deterministic defences, else the registry's default for the profile. */
    private int eot(Experiment.AttackSpec a, Purifier p) {
        return p.randomized() ? AttackRegistry.eot(a, profile) : 1;
    }

    /** K: 1 for deterministic defences, else the registry's default for the profile. */
    private int votes(Purifier p) {
        return p.randomized() ? AttackRegistry.votes(profile) : 1;
    }
}
