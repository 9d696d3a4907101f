package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.defense.DetectingPurifier;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Identity;
import org.lustra.defense.Purifier;
import org.lustra.defense.RecomputablePurifier;
import org.lustra.defense.ThresholdedPurifier;
import org.lustra.defense.disco.Disco;
import org.lustra.defense.learned.LearnedModels;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.LustraException;

/**
 * Harness v2's promise that the gradient text of every cell names the route its attack runs (issue 9, Build 4), checked
 * for every defence family the harness accepts and every "gradient" setting the family declares (auto, worst-of and
 * each of its modes). The routes checked are the ones {@link ChunkRunner#run} attacks through —
 * {@code runner.routes(cell, runner.purifier(cell))}, on the runner that wrote the manifest — so a label derived from
 * anything else would disagree here; there only manifests are written (the defences are built, no attack runs). The
 * spy test then runs chunks through a defence that offers every route and counts which gradient path each takes.
 */
class RouteLabelsTest {
    /** One spec per family; the classic filters are one family each (their routes differ). */
    private static final List<String> FAMILIES = List.of("none", "jpeg:75", "median:3", "bits:3", "lgs",
            "diffpure:0.1:ddim10", "diffender", "hetero", "dw", "fnc", "maep", "disco", "sac", "jedi");

    @TempDir
    static Path tmp;
    private static NetClassifier classifier;

    @BeforeAll
    static void load() {
        classifier = ModelStore.loadClassifier("classifier-resnet");
    }

    @AfterAll
    static void close() {
        classifier.close();
    }

    @TestFactory
    Stream<DynamicTest> givenEveryDefenceFamilyAndGradientSetting_whenACellIsLabelled_thenTheLabelNamesItsRoute() {
        return FAMILIES.stream().map(spec -> DynamicTest.dynamicTest(spec, () -> checkFamily(spec)));
    }

    /**
     * A randomised purifier offering every route, the identity in value, that counts the rows each gradient path
     * receives: the oracle's recorded chain (EXACT), its surrogate's (SURROGATE), the STE forward, the masked
     * surrogate (the last two only when differentiated); BPDA's only path is the plain forward the judge uses too, so
     * it counts as none of these.
     */
    static final class SpyPurifier implements RecomputablePurifier, ThresholdedPurifier, DetectingPurifier {
        private final String chain;
        final Map<String, Long> rows;

        SpyPurifier() {
            this("EXACT", new TreeMap<>());
        }

        private SpyPurifier(String chain, Map<String, Long> rows) {
            this.chain = chain;
            this.rows = rows;
        }

        /** Counts the rows of a gradient evaluation (forward-only queries of an STE or MASKED route pass here too). */
        private NDArray count(String path, NDArray x, boolean always) {
            if (always || JniUtils.isGradMode()) { // inside the attack's GradientCollector
                rows.merge(path, x.getShape().get(0), Long::sum);
            }
            return x.mul(1f);
        }

        @Override
        public String name() {
            return "spy";
        }

        @Override
        public Set<GradientMode> gradientModes() {
            return EnumSet.allOf(GradientMode.class);
        }

        @Override
        public boolean randomized() {
            return true;
        }

        @Override
        public NDArray purify(NDArray x, long seed) {
            return x.duplicate();
        }

        @Override
        public Traced record(NDArray x, long seed) {
            NDArray out = count(chain, x, true); // only gradients are recorded
            return new Traced() {
                @Override
                public NDArray output() {
                    return out;
                }

                @Override
                public NDArray pullback(NDArray g) {
                    return g.duplicate();
                }

                @Override
                public void close() {
                    out.close();
                }
            };
        }

        @Override
        public RecomputablePurifier surrogate() {
            return new SpyPurifier("SURROGATE", rows);
        }

        @Override
        public NDArray purifyForAttack(NDArray x, long seed) {
            return count("STE", x, false);
        }

        @Override
        public String straightThrough() {
            return "the identity";
        }

        @Override
        public NDArray purifyMaskedSurrogate(NDArray x, long seed) {
            return count("MASKED", x, false);
        }

        @Override
        public Masked purifyMasked(NDArray x, long seed) {
            return new Masked(x.duplicate(), detection(x, seed), detection(x, seed));
        }

        @Override
        public NDArray softDetection(NDArray x, long seed) {
            return detection(x, seed);
        }

        @Override
        public NDArray detection(NDArray x, long seed) {
            return x.getManager().zeros(new Shape(x.getShape().get(0), 1, x.getShape().get(2),
                    x.getShape().get(3)));
        }
    }

    /**
     * The end-to-end half: a chunk actually attacked through a spy defence under each gradient setting sends its
     * gradients down the path of the mode the label names, with the EOT copies the label states — per route for
     * worst-of. PGD, 1 step, 2 images: (1 + 1) gradient evaluations × EOT copies × 2 images per path.
     */
    @Test
    void givenASpyDefenceWithEveryRoute_whenEachGradientSettingRuns_thenGradientsTakeThePathTheLabelNames() {
        int images = 2;
        int steps = 1;
        Pattern eot = Pattern.compile("with EOT (\\d+)");
        for (String setting : List.of("auto", "exact", "surrogate", "bpda", "ste", "masked", "worst-of")) {
            Experiment exp = Experiment.builder("spy", "classifier-resnet").optSubset("eval512").optImages(images)
                    .optProfile("quick").optSeeds(1L).optDefenses("bits:3").optModes("adaptive")
                    .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.03, steps)).optBatch(images)
                    .optGradient(setting).build();
            SpyPurifier spy = new SpyPurifier();
            Manifest m;
            try (ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(classifier),
                    tmp.resolve("spy-" + setting), s -> { }).withDefense("bits:3", spy)) {
                m = r.manifest("test", Map.of());
                r.run(m);
            }
            Map<String, Long> expected = new TreeMap<>();
            for (CellInfo info : m.cells().values()) {
                if (info.gradientMode().startsWith("worst of")) {
                    continue; // its routes are the @MODE cells
                }
                String label = info.gradientMode();
                String mode = label.substring(0, label.indexOf(' '));
                Matcher copies = eot.matcher(label);
                assertTrue(copies.find(), setting + ": " + label);
                if (!mode.equals("BPDA")) { // the spy's forward is BPDA's whole path
                    expected.put(mode, (long) (steps + 1) * Integer.parseInt(copies.group(1)) * images);
                }
            }
            assertEquals(expected, spy.rows, "gradient setting " + setting + ": " + m.cells().keySet());
        }
    }

    private static void checkFamily(String spec) {
        if (spec.equals("disco")) {
            // the weights ship in the repository: their absence is a broken checkout, not a reason to skip
            assertTrue(LearnedModels.exists(Disco.DEFAULT_MODEL), "models/" + Disco.DEFAULT_MODEL + " is missing");
        }
        Set<GradientMode> declared = checkSetting(spec, "auto", null);
        List<String> settings = new ArrayList<>(List.of("worst-of"));
        declared.forEach(m -> settings.add(m.name().toLowerCase(Locale.ROOT)));
        for (String setting : settings) {
            checkSetting(spec, setting, declared);
        }
        // a mode the family does not declare is refused, never replaced by another route under the asked-for name
        EnumSet<GradientMode> other = EnumSet.complementOf(EnumSet.copyOf(declared));
        if (!spec.equals("none") && !other.isEmpty()) {
            String mode = other.iterator().next().name().toLowerCase(Locale.ROOT);
            LustraException e = assertThrows(LustraException.class, () -> checkSetting(spec, mode, declared), spec
                    + " with gradient " + mode);
            assertTrue(e.getMessage().contains("does not support gradient mode"), e.getMessage());
        }
    }

    /** Writes the manifest of {@code spec} under {@code setting} and checks every cell; returns the declared modes. */
    private static Set<GradientMode> checkSetting(String spec, String setting, Set<GradientMode> declared) {
        List<Experiment.AttackConfig> attacks = List.of(ExperimentRunnerTest.attack("pgd", "linf", 0.03, 2),
                ExperimentRunnerTest.attack("lavan", null, null, 2));
        Experiment exp = Experiment.builder("routes", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses(spec).optModes("nonadaptive", "adaptive")
                .optAttacks(attacks).optBatch(4).optGradient(setting).build();
        try (ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(classifier), tmp, s -> { })) {
            Manifest m = r.manifest("test", Map.of());
            Set<GradientMode> modes = null;
            for (Experiment.Cell cell : exp.cells()) {
                Purifier p = r.purifier(cell);
                modes = p.gradientModes();
                if (declared != null) {
                    assertEquals(declared, modes, spec + ": the same spec declares the same modes");
                }
                String where = spec + " / gradient " + setting + " / " + cell.id();
                List<Route> routes = r.routes(cell, p);
                String label = m.cells().get(cell.id()).gradientMode();
                if (routes.size() == 1) {
                    checkRoute(where, label, routes.get(0), p, setting);
                } else {
                    assertEquals("worst-of", setting, where + ": several routes only for worst-of");
                    assertTrue(label.startsWith("worst of " + routes.size() + " routes per image: "), where + ": "
                            + label);
                    for (Route route : routes) {
                        CellInfo info = m.cells().get(ThreatModels.routeCellId(cell, route));
                        assertTrue(info != null, where + ": no manifest entry for route " + route.tag());
                        checkRoute(where + "@" + route.tag(), info.gradientMode(), route, p, setting);
                        assertTrue(label.contains(info.gradientMode()), where + ": " + label);
                    }
                }
                if (setting.equals("worst-of") && routes.get(0).adaptive() && routes.get(0).attack() == null) {
                    // worst-of runs every mode the defence declares (one route when it declares one)
                    Set<GradientMode> run = EnumSet.noneOf(GradientMode.class);
                    routes.stream().filter(x -> x.attack() == null).forEach(x -> run.add(x.mode()));
                    assertEquals(modes, run, where);
                }
            }
            return modes;
        }
    }

    /** The label of one route says what the route does: its mode, how the gradient is obtained, EOT and votes. */
    private static void checkRoute(String where, String label, Route route, Purifier p, String setting) {
        String msg = where + ": " + label;
        if (!route.adaptive()) {
            assertEquals(GradientMode.EXACT, route.mode(), msg);
            assertEquals(1, route.eot(), msg);
            assertTrue(label.startsWith("EXACT"), msg);
            assertEquals(!(p instanceof Identity), label.contains("non-adaptive"), msg);
            return;
        }
        assertTrue(p.gradientModes().contains(route.mode()), msg);
        if (route.attack() != null) {
            assertTrue(label.startsWith(route.attack() + " ("), msg);
        } else {
            assertTrue(label.startsWith(route.mode().name() + " "), msg);
            if (!setting.equals("auto") && !setting.equals("worst-of")) {
                assertEquals(setting, route.mode().name().toLowerCase(Locale.ROOT), msg + " (the mode asked for)");
            }
            if (route.mode() == GradientMode.EXACT) {
                assertEquals(route.viaOracle(), label.contains("step-by-step recomputation"), msg);
            }
            if (route.mode() == GradientMode.SURROGATE && p instanceof RecomputablePurifier rp) {
                assertEquals(route.viaOracle(), label.contains("(" + rp.surrogate().name() + ")"), msg);
            }
            if (route.mode() == GradientMode.STE && p instanceof ThresholdedPurifier tp) {
                assertTrue(label.contains("(" + tp.straightThrough() + ")"), msg);
            }
            assertTrue(label.contains(" through " + p.name()), msg);
        }
        assertEquals(p.randomized(), route.randomized(), msg);
        assertEquals(route.randomized(), label.contains("with EOT " + route.eot()), msg);
        assertEquals(route.randomized(), label.contains(" by " + route.votes() + " fresh purifications"), msg);
        if (!route.randomized()) {
            assertEquals(1, route.eot(), msg);
        }
    }
}
