package org.lustra.cli;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.lustra.eval.Report;

/**
 * The demo's clean/robust table, one block per threat, from the harness's report of its run: per defence the clean
 * count, the robust count under the non-adaptive and the adaptive threat model, and the gradient route of the adaptive
 * attack. Counts, not percentages: with a handful of images a percentage pretends to a precision it does not have.
 */
final class DemoTable {
    private DemoTable() {}

    /** The defence column is as wide as the longest spec of the block, at least this wide. */
    private static final int MIN_DEFENCE_WIDTH = 26;

    /** One defence's cells: the undefended cell, or its non-adaptive and adaptive cells. */
    private static final class Row {
        Report.CellSummary undefended;
        Report.CellSummary nonAdaptive;
        Report.CellSummary adaptive;

        Report.CellSummary any() {
            return undefended != null ? undefended : nonAdaptive != null ? nonAdaptive : adaptive;
        }
    }

    /** Prints the block of {@code threat} from its run's {@code summary}. */
    static void print(PrintStream out, DemoPlan.Threat threat, Report.Summary summary) {
        Map<String, Row> rows = new LinkedHashMap<>();
        for (Report.CellSummary c : summary.cells()) {
            Row r = rows.computeIfAbsent(c.defense(), d -> new Row());
            switch (c.mode()) {
                case "adaptive" -> r.adaptive = c;
                case "nonadaptive" -> r.nonAdaptive = c;
                default -> r.undefended = c;
            }
        }
        Report.CellSummary first = summary.cells().get(0);
        out.printf(Locale.ROOT, "%s: %s; %d eval512 image(s), seed %s%n", threat.title(), first.budget(),
                first.images(), summary.seeds().get(0));
        int width = MIN_DEFENCE_WIDTH;
        for (String d : rows.keySet()) {
            width = Math.max(width, d.length());
        }
        String row = "  %-" + width + "s %7s  %12s  %9s   %s%n";
        out.printf(row, "defence", "clean", "non-adaptive", "adaptive", "adaptive attack's gradient");
        for (Map.Entry<String, Row> e : rows.entrySet()) {
            Row r = e.getValue();
            if (r.undefended != null) {
                out.printf(row, e.getKey(), count(r.undefended.cleanAccuracy(), r.undefended),
                        count(r.undefended.robustMean(), r.undefended), "-", "EXACT (no defence to pass)");
                continue;
            }
            out.printf(row, e.getKey(), count(r.any().cleanAccuracy(), r.any()),
                    r.nonAdaptive == null ? "-" : count(r.nonAdaptive.robustMean(), r.nonAdaptive),
                    r.adaptive == null ? "-" : count(r.adaptive.robustMean(), r.adaptive),
                    r.adaptive == null ? "-" : route(r.adaptive.gradientMode()));
        }
        long failed = summary.checks().stream().filter(ch -> !ch.passed()).count();
        if (failed > 0) {
            out.printf("  %d sanity check(s) of the harness failed; see the report.%n", failed);
        }
    }

    /** The legend printed once under the blocks. */
    static List<String> legend(int votes) {
        return List.of(
                "clean / robust: images classified correctly (randomised defences: majority of " + votes
                        + " fresh purifications; a tie counts as fooled).",
                "non-adaptive: the attack sees the classifier alone and its output is then purified (the defence's "
                        + "best case).",
                "adaptive: the attack sees the defence and differentiates through it by the route named: EXACT "
                        + "(true gradients; DiffPure by",
                "  step-by-step recomputation), STE (DIFFender: exact localisation, straight-through thresholds), "
                        + "BPDA (identity backward);",
                "  against randomised defences with EOT " + DemoPlan.EOT + " and successes confirmed by " + votes
                        + " fresh purifications.");
    }

    /** The route's name and its EOT, from the cell's label (which the harness derives from the route that ran). */
    static String route(String label) {
        String mode = label.split("[ (]", 2)[0];
        int eot = label.indexOf("with EOT ");
        return eot < 0 ? mode : mode + ", EOT " + label.substring(eot + 9).split("[ ,]", 2)[0];
    }

    private static String count(double fraction, Report.CellSummary c) {
        int n = c.images() * c.runs();
        return Math.round(fraction * n) + "/" + n;
    }
}
