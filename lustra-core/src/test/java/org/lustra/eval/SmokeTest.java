package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;

/**
 * Every attack against every defence (DiffPure on the shipped diffusion model with a 2-step chain, attacked with
 * EXACT gradients by recomputation), both modes, tiny budgets, one shipped image, through the harness (one, not four:
 * the test checks that every pair runs and stays in its budget, not accuracy; batches of several images are the
 * other harness tests' business, and each image more costs this test, the suite's slowest, about a third more).
 */
class SmokeTest {
    /**
     * EOT copies per gradient against the randomised defences: two still runs the averaging path (one would not),
     * and the quick profile's four made DIFFender's and DiffPure's adaptive cells most of this test's time.
     */
    private static final int SMOKE_EOT = 2;
    private static final int IMAGES = 1;

    @TempDir
    Path tmp;

    @Test
    void everyAttackRunsAgainstEveryDefence() {
        List<Experiment.AttackConfig> attacks = new ArrayList<>();
        for (String a : Experiment.ATTACKS) {
            boolean patch = Experiment.PATCH_ATTACKS.contains(a);
            if (a.equals("advp")) {
                // one untargeted universal patch: the best-of-ten-targets default trains ten, which through
                // DIFFender took minutes of this test's time and checks nothing more
                attacks.add(withSmokeEot(ExperimentRunnerTest.untargetedAdvp(1)));
                continue;
            }
            attacks.add(withSmokeEot(ExperimentRunnerTest.attack(a, patch ? null : "linf", patch ? null : 0.1, 1)));
        }
        attacks.add(withSmokeEot(ExperimentRunnerTest.attack("apgd-ce", "l2", 1.0, 1)));
        List<String> defences = List.of("none", "jpeg:75", "median:3", "bits:3", "lgs", "diffpure:0.02:ddim2",
                "diffender:ddim2");
        Experiment exp = Experiment.builder("smoke", "classifier-resnet").optSubset("eval512").optImages(IMAGES)
                .optProfile("quick").optSeeds(1L).optDefenses(defences).optModes("nonadaptive", "adaptive")
                .optAttacks(attacks).optBatch(IMAGES).build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })) {
            r.run(r.manifest("test", Map.of()));
        }
        Report.Summary s = Report.write(tmp);
        int cells = attacks.size() * (1 + 2 * (defences.size() - 1));
        assertEquals(cells, s.cells().size());
        for (Report.CellSummary cell : s.cells()) {
            assertEquals(IMAGES, cell.images(), cell.cell());
            assertEquals(0, cell.nonFiniteInputs(), cell.cell() + ": non-finite adversarial inputs");
            assertEquals(0, cell.nonFiniteGradients(), cell.cell() + ": non-finite gradient rows");
            assertTrue(cell.gradientMode() != null && !cell.gradientMode().isEmpty(), cell.cell());
        }
        // the only check that must hold at 1-step budgets: nothing leaves its ε-ball
        Report.Check ball = s.checks().stream().filter(ch -> ch.relation().startsWith(
                "every adversarial input is within")).findFirst().orElseThrow(() -> new AssertionError(
                "no ε-ball check in " + s.checks()));
        assertTrue(ball.passed(), ball.toString());
    }

    private static Experiment.AttackConfig withSmokeEot(Experiment.AttackConfig a) {
        return Experiment.AttackConfig.builder(a.attack()).optNorm(a.norm()).optEps(a.eps()).optSteps(a.steps())
                .optEot(SMOKE_EOT).optFraction(a.fraction()).optQueries(a.queries()).optTarget(a.target()).build();
    }
}
