package org.lustra.eval.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.util.LustraException;

/** The sweep's choice: against the undefended classifier or against a reference defence, which is never chosen. */
class HeteroSweepRuleTest {
    private static final int N = 256;
    private static final int UNDEFENDED_CLEAN = 240;

    private static HeteroSweep.Row candidate(String id, int clean, int robust) {
        return new HeteroSweep.Row(id, id, 1, "vote", clean, robust, N, 0.03, 0.04, 80.0);
    }

    private static HeteroSweep.Row reference(String spec, int clean, int robust) {
        return new HeteroSweep.Row(HeteroSweep.referenceId(spec), spec, 1, "single", clean, robust, N, 0, 0, 60.0,
                true);
    }

    private final List<HeteroSweep.Row> rows = List.of(
            reference("diffpure:0.1:ddim10", 230, 235), // the most robust row: must still never be chosen
            candidate("hetero:strong", 228, 200), // 2 below DiffPure, 12 below undefended
            candidate("hetero:gentle", 239, 150)); // 1 below undefended

    @Test
    void givenTheUndefendedReference_whenChosen_thenOnlyTheGentleCandidateIsAdmissible() {
        HeteroSweep.Choice c = HeteroSweep.choose(rows, UNDEFENDED_CLEAN, new HeteroSweep.Rule(0.01));
        assertEquals(new HeteroSweep.Choice("hetero:gentle", true), c);
    }

    @Test
    void givenARuleRelativeToDiffPure_whenChosen_thenTheStrongerCandidateWithinOnePointOfItsCleanAccuracyWins() {
        HeteroSweep.Choice c = HeteroSweep.choose(rows, UNDEFENDED_CLEAN,
                new HeteroSweep.Rule(0.01, "diffpure:0.1:ddim10"));
        assertEquals(new HeteroSweep.Choice("hetero:strong", true), c);
    }

    @Test
    void givenNoAdmissibleCandidateAndACleanerReference_whenChosen_thenTheBestCleanCandidateIsNamedNotTheReference() {
        List<HeteroSweep.Row> withCleanReference = List.of(reference("diffpure:0.05:ddim5", 245, 240),
                candidate("hetero:strong", 228, 200), candidate("hetero:gentle", 239, 150));
        HeteroSweep.Choice c = HeteroSweep.choose(withCleanReference, 250, new HeteroSweep.Rule(0.01));
        assertFalse(c.ruleMet());
        assertEquals("hetero:gentle", c.id());
    }

    @Test
    void givenARuleRelativeToAnUnmeasuredReference_whenChosen_thenOneSentenceSaysToAddIt() {
        LustraException e = assertThrows(LustraException.class, () -> HeteroSweep.choose(rows, UNDEFENDED_CLEAN,
                new HeteroSweep.Rule(0.01, "diffpure:0.2:ddim10")));
        assertTrue(e.getMessage().contains("--reference") && !e.getMessage().contains("\n"), e.getMessage());
    }
}
