package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * "AutoAttack ≤ PGD at equal budget" holds on the model both attacks target; a non-adaptive cell's images are made on
 * the bare classifier, and how they transfer through a purifier has no order.
 */
class SanityChecksTest {
    private static final Experiment.AttackSpec PGD = new Experiment.AttackSpec("pgd", "linf", 0.0314, null, null, 0,
            null, null);
    private static final Experiment.AttackSpec AA = new Experiment.AttackSpec("autoattack", "linf", 0.0314, null, null,
            0, null, null);

    /** A cell of 10 images of which {@code robust} survive. */
    private static Report.CellSummary cell(String defense, String mode, Experiment.AttackSpec attack, int robust) {
        List<SampleRecord> recs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            recs.add(new SampleRecord(1, "c", 0, i, 3, 3, i < robust ? 3 : 4, true, i < robust, null, 1, 0.03, 0.5,
                    30, 0.9, null, 1, 1));
        }
        String id = defense + "|" + attack.id() + "|" + mode;
        return Report.scoreCell(id, new CellInfo(defense, attack.id(), mode, "EXACT", "threat", "linf eps=0.0314"),
                recs);
    }

    private static List<Report.Check> aaChecks(List<Report.CellSummary> rows) {
        return SanityChecks.of(rows, Map.of(PGD.id(), PGD, AA.id(), AA)).stream()
                .filter(c -> c.relation().startsWith("AutoAttack ≤ PGD")).toList();
    }

    @Test
    void givenAutoAttackAbovePgdOnTheModelItTargets_whenChecked_thenTheCheckFails() {
        // given undefended and adaptive rows where AutoAttack leaves more than PGD
        List<Report.CellSummary> rows = List.of(cell("none", "none", PGD, 1), cell("none", "none", AA, 2),
                cell("maep", "adaptive", PGD, 5), cell("maep", "adaptive", AA, 6));

        // when
        List<Report.Check> checks = aaChecks(rows);

        // then both relations are checked and fail
        assertEquals(2, checks.size(), checks.toString());
        checks.forEach(c -> assertFalse(c.passed(), c.toString()));
    }

    @Test
    void givenNonAdaptiveRowsWhereAutoAttackTransfersWorse_whenChecked_thenNoRelationIsClaimedForThem() {
        // given the bare classifier (AutoAttack stronger) and a non-adaptive purifier row where its images transfer worse
        List<Report.CellSummary> rows = List.of(cell("none", "none", PGD, 1), cell("none", "none", AA, 0),
                cell("disco", "nonadaptive", PGD, 6), cell("disco", "nonadaptive", AA, 7));

        // when
        List<Report.Check> checks = aaChecks(rows);

        // then only the undefended relation is checked, and it holds
        assertEquals(1, checks.size(), checks.toString());
        assertEquals(true, checks.get(0).passed(), checks.toString());
        assertEquals(true, checks.get(0).relation().contains("none|none"), checks.toString());
    }
}
