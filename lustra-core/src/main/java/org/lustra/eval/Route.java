package org.lustra.eval;

import org.lustra.attack.Attacks;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Identity;
import org.lustra.defense.Purifier;
import org.lustra.defense.RecomputablePurifier;
import org.lustra.defense.ThresholdedPurifier;

/**
 * How one cell's attack reaches its target, made once per cell and used both to <em>run</em> the cell and to
 * <em>label</em> it, so the manifest's gradient text cannot say one thing while the attack does another (harness v1
 * labelled harness PGD through DiffPure "EXACT … with EOT N" while it attacked the BPDA forward with EOT 1).
 *
 * @param adaptive the attack sees the defence (else it attacks the bare classifier and its output is purified)
 * @param mode the gradient route through the defence (EXACT on the bare classifier for non-adaptive cells)
 * @param viaOracle gradients come from step-by-step recomputation ({@link RecomputablePurifier}), not one graph
 * @param eot EOT copies per gradient (1 for deterministic targets)
 * @param randomized the defence is randomised: attacks run full length and keep the best EOT objective
 * @param votes K, fresh evaluations that confirm a success during an adaptive attack and that score every cell
 * @param attack null: the cell's own attack with gradient {@code mode}; else the registry name of an attack with its
 *     own objective that this route runs instead, on the cell's budget (a worst-of LaVAN cell against a detecting
 *     defence adds {@code evade-lavan}); {@code mode} then only carries its forward confirmations
 * @param restart 0 for the attack's first run; k &gt; 0 for the k-th restart (the config's {@code restarts}), which
 *     draws its attack seed, purifications and AdvP patch afresh
 * @param fullLength the attack runs every iteration and keeps its best objective instead of stopping each image at a
 *     first success: always against a randomised defence; for a non-adaptive or undefended cell also when the
 *     experiment asks ({@code "fullLength": true}), so its images do not depend on whether the defence is randomised
 */
public record Route(boolean adaptive, GradientMode mode, boolean viaOracle, int eot, boolean randomized, int votes,
        String attack, int restart, boolean fullLength) {
    /** The registry name of the localiser-aware patch attack that worst-of LaVAN cells add against a detector. */
    static final String EVADE = "evade-lavan";

    public Route {
        if (mode == null || eot < 1 || votes < 1 || restart < 0 || (!randomized && (eot != 1 || votes != 1))) {
            throw new IllegalArgumentException("Invalid route: mode " + mode + ", eot " + eot + ", votes " + votes
                    + ", randomized " + randomized + ", restart " + restart + " (a deterministic target takes eot 1 "
                    + "and 1 vote; restarts count from 0)");
        }
        if ((randomized && !fullLength) || (fullLength && !randomized && adaptive)) {
            throw new IllegalArgumentException("Invalid route: attacks against a randomised defence always run full "
                    + "length; against a deterministic one only non-adaptive cells may (randomized " + randomized
                    + ", adaptive " + adaptive + ", fullLength " + fullLength + ")");
        }
    }

    Route(boolean adaptive, GradientMode mode, boolean viaOracle, int eot, boolean randomized, int votes,
            String attack, int restart) {
        this(adaptive, mode, viaOracle, eot, randomized, votes, attack, restart, randomized);
    }

    Route(boolean adaptive, GradientMode mode, boolean viaOracle, int eot, boolean randomized, int votes,
            String attack) {
        this(adaptive, mode, viaOracle, eot, randomized, votes, attack, 0);
    }

    /** A route that runs the attack {@code name} (with its own objective) instead of the cell's. */
    Route withAttack(String name) {
        return new Route(adaptive, mode, viaOracle, eot, randomized, votes, name, restart, fullLength);
    }

    /** The same route as restart {@code k} (0: the first run). */
    Route withRestart(int k) {
        return new Route(adaptive, mode, viaOracle, eot, randomized, votes, attack, k, fullLength);
    }

    /** The same non-adaptive (or undefended) route, run to full length with its best objective kept. */
    Route withFullLength() {
        return new Route(adaptive, mode, viaOracle, eot, randomized, votes, attack, restart, true);
    }

    /**
     * How records and seeds name this route: the attack it substitutes, else the gradient mode (e.g. {@code STE}),
     * then {@code -r2}, {@code -r3}, … for restarts after the first.
     */
    String tag() {
        return (attack != null ? attack : mode.name()) + (restart > 0 ? "-r" + (restart + 1) : "");
    }

    /** Votes the attack itself takes to confirm a success: K when it sees a randomised defence, else 1. */
    public int attackVotes() {
        return adaptive && randomized ? votes : 1;
    }

    /**
     * The route of a cell: {@code p} is the defence ({@link Identity} for none: the bare classifier, EXACT, one vote),
     * {@code requested} the adaptive mode chosen from the experiment's "gradient" setting.
     */
    static Route of(Purifier p, boolean adaptive, GradientMode requested, int eot, int votes) {
        if (p instanceof Identity) {
            return new Route(false, GradientMode.EXACT, false, 1, false, 1, null);
        }
        boolean randomized = p.randomized();
        if (!adaptive) {
            return new Route(false, GradientMode.EXACT, false, 1, randomized, randomized ? votes : 1, null);
        }
        boolean viaOracle = p instanceof RecomputablePurifier
                && (requested == GradientMode.EXACT || requested == GradientMode.SURROGATE);
        return new Route(true, requested, viaOracle, randomized ? eot : 1, randomized, randomized ? votes : 1, null);
    }

    /** The gradient-mode text of the manifest and report, derived from this route alone. */
    String label(Purifier p, boolean blackBox) {
        return restart == 0 ? firstRunLabel(p, blackBox) : firstRunLabel(p, blackBox) + "; restart " + (restart + 1)
                + " (fresh attack seed)";
    }

    private String firstRunLabel(Purifier p, boolean blackBox) {
        if (p instanceof Identity) {
            return (blackBox ? "none (black-box, logits only)" : "EXACT")
                    + (fullLength ? "; full length, best objective kept" : "");
        }
        if (!adaptive) {
            return (blackBox ? "none (black-box)" : "EXACT") + " on the classifier alone (non-adaptive: the attack "
                    + "ignores the defence; its output is then purified)"
                    + (fullLength ? "; full length, best objective kept" : "");
        }
        if (blackBox) {
            return "none (black-box queries through the defence)"
                    + (randomized ? ", successes confirmed by " + votes + " fresh purifications" : "");
        }
        if (attack != null) {
            return attack + " (" + Attacks.EvadeLaVanAttack.GRADIENT + ") through " + p.name()
                    + (randomized ? " with EOT " + eot + " over the detector's noise, full length, each start's best "
                            + "checked iterate kept, picks confirmed end to end by " + votes + " fresh purifications"
                            : "");
        }
        String how = switch (mode) {
            case EXACT -> viaOracle ? " (step-by-step recomputation)" : "";
            case STE -> p instanceof ThresholdedPurifier t ? " (" + t.straightThrough() + ")" : "";
            case MASKED -> " (x·(1 − M̃) + sg(R)·M̃: exact localisation, straight-through thresholds, repainted "
                    + "content constant, no identity term inside the mask)";
            case SURROGATE -> viaOracle && p instanceof RecomputablePurifier r ? " (" + r.surrogate().name() + ")"
                    : "";
            default -> "";
        };
        return mode.name() + how + " through " + p.name()
                + (randomized ? " with EOT " + eot + ", full length, best EOT objective kept, successes confirmed by "
                        + votes + " fresh purifications" : "");
    }
}
