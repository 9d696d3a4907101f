package org.lustra.eval.table1;

import org.lustra.eval.Report;

/**
 * One harness cell as the table shows it, with the run folder it came from. Scores are fractions in [0, 1].
 *
 * @param run the run folder, as the cell list shows it (an unfinished run says so)
 * @param singleRobust the first of K draws alone (the majority stands in for records older than harness v2)
 * @param anyCopyRobust robust in all K draws; null for deterministic defences, where it equals the majority
 * @param msPerImage the attack's wall time per image, median over the cell's records or chunks
 */
public record Table1Cell(String cell, String defense, String attack, String mode, String run, String threatModel,
        String budget, String gradientMode, int images, double cleanAccuracy, double robustMean, double singleRobust,
        Double anyCopyRobust, double ciLow, double ciHigh, double msPerImage) {

    public Table1Cell {
        if (cell == null || defense == null || attack == null || mode == null) {
            throw new IllegalArgumentException("A cell needs its id, defence, attack and mode, got " + cell + ", "
                    + defense + ", " + attack + ", " + mode);
        }
        threatModel = threatModel == null ? "" : threatModel;
        budget = budget == null ? "" : budget;
        gradientMode = gradientMode == null ? "" : gradientMode;
    }

    /** A route cell of a worst-of cell ({@code cell@MODE}); the main table shows the worst-of cell itself. */
    public boolean route() {
        return cell.contains("@");
    }

    /** A row as the harness scores it: a finished run's {@code report.json}, or {@link Report#scoreCell}. */
    static Table1Cell of(Report.CellSummary c, String run) {
        return new Table1Cell(c.cell(), c.defense(), c.attack(), c.mode(), run, c.threatModel(), c.budget(),
                c.gradientMode(), c.images(), c.cleanAccuracy(), c.robustMean(),
                c.singleRobust() != null ? c.singleRobust() : c.robustMean(), c.anyCopyRobust(), c.ciLow(),
                c.ciHigh(), c.msPerImage());
    }
}
