package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.attack.Attack;
import org.lustra.attack.Attacks;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Purifier;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;

/**
 * How the harness reaches DIFFender's detector (issue 11, 3): a worst-of LaVAN cell runs the seed's STE, the
 * corrected surrogate MASKED, BPDA and the evade-then-fool attack, and keeps the worst per image; an evade-lavan cell
 * runs once with its own gradient; the labels say so.
 */
class DetectorRoutesTest {
    @TempDir
    Path tmp;

    @Test
    void givenDiffenderUnderWorstOf_whenItsPatchCellsAreRouted_thenLavanAddsMaskedAndEvadeThenFool() {
        Experiment exp = Experiment.builder("routes", "classifier-resnet").optSubset("eval512").optImages(2)
                .optProfile("quick").optSeeds(1L).optDefenses("diffender:ddim2").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("lavan", null, null, 1),
                        ExperimentRunnerTest.attack("evade-lavan", null, null, 1))
                .optBatch(2).optGradient("worst-of").build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })) {
            Manifest m = r.manifest("test", Map.of());
            for (Experiment.Cell cell : exp.cells()) {
                Purifier p = r.purifier(cell);
                List<Route> routes = r.routes(cell, p);
                String label = m.cells().get(cell.id()).gradientMode();
                if (cell.attack().attack().equals("lavan")) {
                    assertEquals(List.of("STE", "MASKED", "BPDA", "evade-lavan"), routes.stream().map(Route::tag)
                            .toList());
                    assertTrue(label.startsWith("worst of 4 routes per image: STE") && label.contains("| MASKED (")
                            && label.contains("| evade-lavan (evade-then-fool"), label);
                    assertTrue(m.cells().containsKey(cell.id() + "@evade-lavan"), m.cells().keySet().toString());
                    Attack evade = r.substitute(cell, routes.get(3).attack());
                    assertTrue(evade instanceof Attacks.EvadeLaVanAttack e && e.fraction() == 0.05);
                } else {
                    assertEquals(1, routes.size());
                    assertEquals(GradientMode.BPDA, routes.get(0).mode(), "forward confirmations only");
                    assertTrue(label.startsWith("evade-lavan (evade-then-fool") && label.contains("EOT 4"), label);
                }
            }
        }
    }

    @Test
    void givenTheMaskedGradientSetting_whenDiffenderIsRouted_thenTheCellRunsTheCorrectedSurrogate() {
        Experiment exp = Experiment.builder("masked", "classifier-resnet").optSubset("eval512").optImages(2)
                .optProfile("quick").optSeeds(1L).optDefenses("diffender:ddim2", "jpeg:75").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("lavan", null, null, 1)).optBatch(2).optGradient("masked")
                .build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })) {
            Experiment.Cell diffender = exp.cells().get(0);
            assertEquals(GradientMode.MASKED, r.route(diffender, r.purifier(diffender)).mode());
            Experiment.Cell jpeg = exp.cells().get(1);
            Throwable t = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                    () -> r.route(jpeg, r.purifier(jpeg)));
            assertTrue(t.getMessage().contains("does not support gradient mode MASKED"), t.getMessage());
        }
    }

    @Test
    void givenSacAndJediUnderWorstOf_whenTheirLavanCellsAreRouted_thenMaskedAndEvadeThenFoolJoinTheirRoutes() {
        Experiment exp = Experiment.builder("detectors", "classifier-resnet").optSubset("eval512").optImages(2)
                .optProfile("quick").optSeeds(1L).optDefenses("sac", "jedi").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("lavan", null, null, 1)).optBatch(2).optGradient("worst-of")
                .build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })) {
            Experiment.Cell sac = exp.cells().get(0);
            assertEquals(List.of("STE", "MASKED", "BPDA", "evade-lavan"), r.routes(sac, r.purifier(sac)).stream()
                    .map(Route::tag).toList());
            Experiment.Cell jedi = exp.cells().get(1);
            assertEquals(List.of("MASKED", "BPDA", "evade-lavan"), r.routes(jedi, r.purifier(jedi)).stream()
                    .map(Route::tag).toList());
        }
    }
}
