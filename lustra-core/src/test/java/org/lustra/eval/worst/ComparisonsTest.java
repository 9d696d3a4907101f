package org.lustra.eval.worst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.lustra.eval.worst.CrossRunWorstTest.A_8;
import static org.lustra.eval.worst.CrossRunWorstTest.NA_8;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.eval.PairedRows;

/** Two defences compared on the attacks both met and the images all those cells have. */
class ComparisonsTest {
    private static final String MAEP_A_8 = "maep|pgd-linf-0.0314|adaptive";
    private static final String MAEP_NA_8 = "maep|pgd-linf-0.0314|nonadaptive";

    @TempDir
    Path tmp;

    @Test
    void givenTwoDefencesUnderOneAttack_whenCompared_thenTheImagesBothHaveAreCountedByOutcome() throws Exception {
        Path disco = new RunFolder("disco").cell(A_8, true, true, false, true, true).write(tmp);
        Path maep = new RunFolder("maep").defence("maep", "maep").cell(MAEP_A_8, false, false, false, true).write(tmp);

        List<Comparisons.Comparison> pairs = CrossRunWorst.of(List.of(disco, maep)).comparisons();

        assertEquals(List.of(new Comparisons.Comparison(new Threat("linf", 0.0314), List.of("pgd adaptive (quick)"),
                new PairedRows.Pair("ℓ∞ ε = 0.0314 (8/255)", "disco", "maep", 4, 1, 2, 0, 1))), pairs,
                "image 4 has no maep record");
    }

    @Test
    void givenOneDefenceAttackedHarder_whenCompared_thenOnlyTheAttacksBothMetDecide() throws Exception {
        Path disco = new RunFolder("disco").cell(A_8, true, true).write(tmp);
        Path discoTransfer = new RunFolder("disco-na").mode("nonadaptive").cell(NA_8, true, false).write(tmp);
        Path maep = new RunFolder("maep").mode("nonadaptive").defence("maep", "maep").cell(MAEP_NA_8, true, true)
                .write(tmp);

        List<Comparisons.Comparison> pairs = CrossRunWorst.of(List.of(disco, discoTransfer, maep)).comparisons();

        assertEquals(1, pairs.size());
        assertEquals(List.of("pgd nonadaptive (quick)"), pairs.get(0).attacks(), "maep never met the adaptive attack");
        assertEquals(new PairedRows.Pair("ℓ∞ ε = 0.0314 (8/255)", "disco", "maep", 2, 1, 0, 1, 0), pairs.get(0).pair());
    }

    @Test
    void givenDefencesThatMetNoCommonAttack_whenCompared_thenThereIsNoPair() throws Exception {
        Path disco = new RunFolder("disco").cell(A_8, false, false).write(tmp);
        Path maep = new RunFolder("maep").mode("nonadaptive").defence("maep", "maep").cell(MAEP_NA_8, true, true)
                .write(tmp);

        assertEquals(List.of(), CrossRunWorst.of(List.of(disco, maep)).comparisons(),
                "maep's 100 % is what a transferred attack leaves: no measure of the defences against each other");
    }

    @Test
    void givenTheSameAttackAtAnotherProfile_whenCompared_thenItIsAnotherAttack() throws Exception {
        Path disco = new RunFolder("disco").profile("paper").cell(A_8, false, false).write(tmp);
        Path maep = new RunFolder("maep").defence("maep", "maep").cell(MAEP_A_8, true, true).write(tmp);

        assertEquals(List.of(), CrossRunWorst.of(List.of(disco, maep)).comparisons(), "PGD-200 is not PGD-20");
    }
}
