package org.lustra.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.lustra.attack.Norm;
import org.lustra.eval.Report.CellSummary;
import org.lustra.eval.Report.Check;

/**
 * The relations every robustness table must satisfy, checked on a report's rows: no non-finite input or gradient,
 * patch cells change only the patch, every ℓp cell stays within its budget, robust accuracy does not rise with ε,
 * AutoAttack is no weaker than PGD at equal budget (where both target the judged model: undefended and adaptive
 * cells), and undefended ℓ∞ PGD at ε ≥ 0.1 leaves almost nothing. Each
 * row's attack is the typed config entry from the run's manifest, never its id parsed back.
 */
final class SanityChecks {
    private SanityChecks() {}

    /** The sanity checks of a report; {@code attacks} gives each row's typed attack ({@link #attacks}). */
    static List<Check> of(List<CellSummary> rows, Map<String, Experiment.AttackSpec> attacks) {
        List<Check> out = new ArrayList<>(healthChecks(rows, attacks));
        out.addAll(budgetChecks(rows, attacks));
        out.addAll(monotoneChecks(rows, attacks));
        // AutoAttack ≤ PGD at equal budget, on the model both attacks target: the undefended row and adaptive cells. A
        // non-adaptive cell's attacks target the bare classifier (checked on the undefended row); how their images
        // transfer through a purifier has no order — PGD's highest-loss iterate can transfer better than AutoAttack's
        // (DISCO at 8/255, full length, 3 December: PGD leaves 66.3 %, AutoAttack 66.9 %)
        for (CellSummary r : rows) {
            Experiment.AttackSpec p = lp(r, attacks);
            if (p == null || !p.attack().equals("autoattack") || r.mode().equals("nonadaptive")) {
                continue;
            }
            for (CellSummary q : rows) {
                Experiment.AttackSpec pq = lp(q, attacks);
                if (pq != null && pq.attack().equals("pgd") && q.defense().equals(r.defense())
                        && q.mode().equals(r.mode()) && norm(p) == norm(pq) && Math.abs(p.eps() - pq.eps()) < 1e-9) {
                    out.add(new Check("AutoAttack ≤ PGD at equal budget [" + r.defense() + "|" + r.mode() + "|"
                            + p.norm() + " " + String.format(Locale.ROOT, "%.4f", p.eps()) + "]",
                            r.robustMean() <= q.robustMean() + 1e-12, String.format(Locale.ROOT,
                                    "AutoAttack %.2f%% vs PGD %.2f%%", 100 * r.robustMean(), 100 * q.robustMean())));
                }
            }
        }
        // ℓ∞ PGD at ε ≥ 0.1 on the undefended model
        for (CellSummary r : rows) {
            Experiment.AttackSpec p = lp(r, attacks);
            if (p != null && p.attack().equals("pgd") && norm(p) == Norm.LINF && p.eps() >= 0.1 - 1e-9
                    && r.defense().equals("none")) {
                out.add(new Check("undefended ℓ∞ PGD at eps 0.1 leaves ≤ 5 %", r.robustMean() <= 0.05,
                        String.format(Locale.ROOT, "%.2f%%", 100 * r.robustMean())));
            }
        }
        return out;
    }

    /**
     * Whether a row's attack takes gradients in its runs; unknown (no typed entry, or a spec today's registry no longer
     * builds — an old run's renamed attack) counts as yes, so the health check then asks for gradient rows.
     */
    private static boolean takesGradientsInRun(Experiment.AttackSpec a) {
        if (a == null) {
            return true;
        }
        try {
            return AttackRegistry.gradientsInRun(a);
        } catch (RuntimeException e) {
            return true;
        }
    }

    /** Non-finite values are errors, never results; patch cells change only the patch. */
    private static List<Check> healthChecks(List<CellSummary> rows, Map<String, Experiment.AttackSpec> attacks) {
        List<Check> out = new ArrayList<>();
        long nonFinite = rows.stream().mapToLong(CellSummary::nonFiniteInputs).sum();
        out.add(new Check("no adversarial input is non-finite", nonFinite == 0, nonFinite == 0
                ? "every cell's inputs and distances are finite"
                : nonFinite + " input(s) in " + rows.stream().filter(r -> r.nonFiniteInputs() > 0)
                        .map(CellSummary::cell).toList()));
        long badGrad = rows.stream().mapToLong(CellSummary::nonFiniteGradients).sum();
        long gradRows = rows.stream().mapToLong(CellSummary::gradientRows).sum();
        // zero rows counted where a per-chunk gradient attack ran means nothing was checked (records older than
        // harness v2 carry no counts): that must not read as a pass. Square and RHDE take no gradient, and AdvP's
        // gradients are spent once, training the universal patch, outside every chunk's counts.
        boolean gradientCells = rows.stream().map(r -> attacks.get(r.attack()))
                .anyMatch(SanityChecks::takesGradientsInRun);
        out.add(new Check("no gradient row is non-finite", badGrad == 0 && (gradRows > 0 || !gradientCells),
                badGrad > 0 ? badGrad + " row(s) in " + rows.stream().filter(r -> r.nonFiniteGradients() > 0)
                        .map(CellSummary::cell).toList()
                : gradRows > 0 ? "counted on " + gradRows + " rows"
                : !gradientCells ? "no attack of this run takes per-chunk gradients (Square, RHDE, AdvP only)"
                : "no gradient rows were recorded (records older than harness v2): unchecked"));
        List<CellSummary> patchCells = rows.stream().filter(r -> r.invalidPatches() + r.uncheckedPatches() > 0
                || lp(r, attacks) == null).toList();
        long invalid = rows.stream().mapToLong(CellSummary::invalidPatches).sum();
        long unchecked = rows.stream().mapToLong(CellSummary::uncheckedPatches).sum();
        if (!patchCells.isEmpty()) {
            out.add(new Check("patch cells change only the patch, inside [0, 1]", invalid == 0 && unchecked == 0,
                    invalid > 0 ? invalid + " invalid patch input(s) in " + rows.stream()
                            .filter(r -> r.invalidPatches() > 0).map(CellSummary::cell).toList()
                    : unchecked > 0 ? unchecked + " patch record(s) written before harness v2 carry no check"
                    : "checked every patch input"));
        }
        return out;
    }

    /** Every ℓp cell's largest distance is within its ε (one failing check per cell, then the summary). */
    private static List<Check> budgetChecks(List<CellSummary> rows, Map<String, Experiment.AttackSpec> attacks) {
        List<Check> budget = new ArrayList<>();
        for (CellSummary r : rows) {
            Experiment.AttackSpec p = lp(r, attacks);
            if (p == null) {
                continue;
            }
            double used = norm(p) == Norm.LINF ? r.maxLinf() : r.maxL2();
            boolean ok = used <= p.eps() * (1 + 1e-4) + 1e-6;
            if (!ok) {
                budget.add(new Check("perturbation within budget", false, String.format(Locale.ROOT,
                        "%s: largest %s distance %.5f > eps %.5f", r.cell(), p.norm(), used, p.eps())));
            }
        }
        List<Check> out = new ArrayList<>(budget);
        out.add(new Check("every adversarial input is within its budget", budget.isEmpty(),
                budget.isEmpty() ? "checked the largest distance of every ℓp cell" : budget.size()
                        + " cell(s) exceed it"));
        return out;
    }

    /** Robust accuracy does not rise with ε within one (defence, mode, attack family, norm). */
    private static List<Check> monotoneChecks(List<CellSummary> rows, Map<String, Experiment.AttackSpec> attacks) {
        Map<String, TreeMap<Double, CellSummary>> series = new LinkedHashMap<>();
        for (CellSummary r : rows) {
            Experiment.AttackSpec p = lp(r, attacks);
            if (p != null) {
                series.computeIfAbsent(r.defense() + "|" + r.mode() + "|" + p.family() + "|" + p.norm(),
                        k -> new TreeMap<>()).put(p.eps(), r);
            }
        }
        List<Check> out = new ArrayList<>();
        for (Map.Entry<String, TreeMap<Double, CellSummary>> e : series.entrySet()) {
            if (e.getValue().size() < 2) {
                continue;
            }
            double last = Double.POSITIVE_INFINITY;
            boolean ok = true;
            StringBuilder d = new StringBuilder();
            for (Map.Entry<Double, CellSummary> pt : e.getValue().entrySet()) {
                ok &= pt.getValue().robustMean() <= last + 1e-12;
                last = pt.getValue().robustMean();
                d.append(String.format(Locale.ROOT, "eps %.4f: %.2f%%; ", pt.getKey(), 100 * last));
            }
            out.add(new Check("robust accuracy non-increasing in eps [" + e.getKey() + "]", ok, d.toString().trim()));
        }
        return out;
    }

    private static Norm norm(Experiment.AttackSpec a) {
        return Norm.parse(a.norm());
    }

    /**
     * The typed attack behind every attack id of a run, from the experiment config in its manifest (the ids were made
     * from it); ids it does not produce (none in runs written by this code) have no entry and get no ℓp check.
     */
    static Map<String, Experiment.AttackSpec> attacks(Manifest manifest) {
        Map<String, Experiment.AttackSpec> out = new HashMap<>();
        for (Experiment.AttackSpec a : manifest.experiment().expandedAttacks()) {
            out.putIfAbsent(a.id(), a);
        }
        return out;
    }

    /** The ℓp attack of a row, or null for patch attacks and unknown ids. */
    static Experiment.AttackSpec lp(CellSummary r, Map<String, Experiment.AttackSpec> attacks) {
        Experiment.AttackSpec a = attacks.get(r.attack());
        return a == null || a.patch() ? null : a;
    }
}
