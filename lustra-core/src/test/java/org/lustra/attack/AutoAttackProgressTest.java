package org.lustra.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An AutoAttack run tells its caller each stage's end, so an hour-long chunk does not look hung. */
class AutoAttackProgressTest {

    @Test
    void givenTheStandardEnsemble_whenRunWithAProgressSink_thenEachStageReportsOnceInOrderAndWarningsStayInTheOutcome() {
        float[] x = LinearTargets.images(6, 7);
        int[] y = LinearTargets.predicted(x, 6);
        Attacks.AutoAttackRun aa = new Attacks.AutoAttackRun(AutoAttack.Version.STANDARD, Norm.LINF, 0.02, 5, 40, 1);
        List<String> lines = new ArrayList<>();
        Attack.Outcome outcome;
        try (NDManager m = NDManager.newBaseManager()) {
            // softmax outputs: AutoAttack's "looks like probabilities" check fires, a warning to keep off the sink
            var linear = LinearTargets.linear(m);
            AttackModel model = new AttackModel(v -> linear.apply(v).softmax(1), m, LinearTargets.IMAGE, 1);

            outcome = aa.run(model, x, y, 11L, lines::add);
        }

        assertTrue(outcome.warnings().stream().anyMatch(w -> w.message().contains("probabilities")),
                outcome.warnings().toString());

        List<String> stages = lines.stream().map(l -> l.split(" ")[0]).toList();
        assertEquals(List.of("apgd-ce", "apgd-t", "fab-t", "square"), stages, lines.toString());
        assertTrue(lines.stream().allMatch(l -> l.contains("robust accuracy") && l.contains("points attacked")),
                lines.toString());
    }
}
