package org.lustra.eval.worst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.lustra.eval.Experiment;

/** A budget whatever the attack: rounded as cell ids round it, and named as a reader expects. */
class ThreatTest {
    @Test
    void givenEpsilonWrittenTwoWays_whenMadeThreats_thenTheyAreOneBudget() {
        assertEquals(new Threat("linf", 0.0313725), new Threat("linf", 0.0314));
    }

    @Test
    void givenAPatchAndAnLpAttack_whenTheirThreatsAreLabelled_thenEachReadsAsItsBudget() {
        Experiment.AttackSpec pgd = new Experiment.AttackSpec("pgd", "linf", 0.0313725, null, null, 0, null, null);
        Experiment.AttackSpec lavan = new Experiment.AttackSpec("lavan", null, 0, null, null, 0.12, null, null);

        assertEquals("ℓ∞ ε = 0.0314 (8/255)", Threat.of(pgd).label());
        assertEquals("patch 12.0 % of the image", Threat.of(lavan).label());
        assertEquals("ℓ2 ε = 0.5000", new Threat("l2", 0.5).label());
        assertEquals("ℓ∞ ε = 0.1000", new Threat("linf", 0.1).label(), "0.1 is not a k/255 budget");
    }

    @Test
    void givenNoSize_whenMadeAThreat_thenItIsRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Threat("linf", 0));

        assertEquals("Invalid threat: norm linf, size 0.0 (a norm name and a finite size above 0)", e.getMessage());
    }
}
