package org.lustra.attack;

/**
 * How healthy an attack's gradients were: rows computed, rows that held a non-finite value (replaced by zeros, no
 * step taken) and rows that were exactly zero. A report flags a cell with any non-finite row and warns when zero rows
 * are more than a few (a cut graph or masked gradients make a robustness number meaningless).
 */
public record GradientCounts(long rows, long nonFinite, long zero) {
    public static final GradientCounts NONE = new GradientCounts(0, 0, 0);

    public GradientCounts {
        if (rows < 0 || nonFinite < 0 || zero < 0 || nonFinite + zero > rows) {
            throw new IllegalArgumentException("Invalid gradient counts: rows " + rows + ", non-finite " + nonFinite
                    + ", zero " + zero);
        }
    }

    /** What {@code model} has counted so far. */
    public static GradientCounts of(AttackModel model) {
        return new GradientCounts(model.gradientRows(), model.nonFiniteGradientRows(), model.zeroGradientRows());
    }

    public GradientCounts plus(GradientCounts o) {
        return new GradientCounts(rows + o.rows, nonFinite + o.nonFinite, zero + o.zero);
    }
}
