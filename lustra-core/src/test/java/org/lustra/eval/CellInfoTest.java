package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.lustra.defense.Identity;
import org.lustra.defense.classic.Jpeg;

/** The defence a cell ran, read back from the threat-model text the harness writes. */
class CellInfoTest {
    private static final Experiment.AttackSpec PGD = new Experiment.AttackSpec("pgd", "linf", 0.0313725, null, null, 0,
            null, null);

    private static CellInfo info(String spec, String threat) {
        return new CellInfo(spec, PGD.id(), "adaptive", "EXACT", threat, "linf");
    }

    @Test
    void givenTheThreatTextOfADefendedCell_whenReadBack_thenItIsThePurifiersName() {
        Jpeg jpeg = new Jpeg(75);
        Experiment.Cell cell = new Experiment.Cell("jpeg:75", PGD, "adaptive");

        assertEquals(jpeg.name(), info("jpeg:75", ThreatModels.threat(cell, jpeg, "classifier-resnet")).defendedBy());
    }

    @Test
    void givenTheThreatTextOfTheBareClassifier_whenReadBack_thenItIsNone() {
        Experiment.Cell cell = new Experiment.Cell("none", PGD, "none");

        assertEquals("none", info("none", ThreatModels.threat(cell, Identity.INSTANCE, "classifier-digits"))
                .defendedBy());
    }

    @Test
    void givenATextOfAnotherForm_whenReadBack_thenTheSpecStands() {
        assertEquals("lgs", info("lgs", "something else").defendedBy());
    }

    @Test
    void givenNoThreatText_whenReadBack_thenTheSpecStands() {
        assertEquals("lgs", info("lgs", null).defendedBy());
    }
}
