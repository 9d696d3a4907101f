package org.lustra.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.lustra.defense.DefenseSpec;
import org.lustra.eval.Experiment;
import org.lustra.eval.Manifest;
import org.lustra.eval.RunDirectory;
import org.lustra.util.Files2;
import org.lustra.util.LustraException;

/**
 * What {@code lustra demo} runs: two threats, each as a small experiment of the evaluation harness (every shipped
 * defence that addresses it, non-adaptive and adaptive, gradient route "auto"), so the demo's numbers come from exactly
 * the code behind {@code lustra eval run}. The budgets are cut to fit the demo's three minutes on one engine thread;
 * they are written into each run's manifest and printed with the table.
 */
final class DemoPlan {
    private DemoPlan() {}

    static final String CLASSIFIER = "classifier-resnet";
    /** ℓ∞ budget 8/255, the usual CIFAR-style budget; on Fashion-MNIST it already fools the bare classifier. */
    static final double PGD_EPS = 8 / 255.0;
    /** The quick profile runs PGD 20 steps and LaVAN 50; cut to fit the demo's time budget (see the README). */
    static final int PGD_STEPS = 10;
    static final int LAVAN_STEPS = 20;
    /**
     * A 9×9 patch (10 % of the image). The harness's default 6×6 (5 %) LaVAN barely moves classifier-resnet: measured on
     * the first 16 eval512 images, robust 15/16 after 10 or 20 iterations and 13/16 after 50 or 100; 9×9 after 20
     * iterations leaves 8/16 — a demo should show an attack that works.
     */
    static final double LAVAN_FRACTION = 0.10;
    /** EOT copies per gradient against the randomised defences (quick profile: 4). */
    static final int EOT = 2;
    /** Images per chunk: the runner's progress line moves once per chunk. */
    static final int BATCH = 4;
    /** Defence of the panel: DIFFender's default (our reconstruction-error localisation; the README's "DIFFender"). */
    static final String PANEL_DEFENSE = DefenseSpec.DIFFENDER_DEFAULT;

    /** One threat: a name for its run folder, a title for the table, and the experiment that evaluates it. */
    record Threat(String key, String title, Experiment experiment) {}

    /**
     * PGD ℓ∞ 8/255 against the pixel-level defences and DiffPure; a LaVAN 9×9 patch against the pixel-level ones, local
     * gradient smoothing and DIFFender. DiffPure meets the patch only in {@code docs/results/diffender-patches}: its
     * adaptive cell alone would cost the demo a minute.
     */
    static List<Threat> threats(int images, long seed) {
        Experiment.AttackConfig pgd = Experiment.AttackConfig.builder("pgd").optNorm("linf").optEps(PGD_EPS)
                .optSteps(PGD_STEPS).optEot(EOT).build();
        Experiment.AttackConfig lavan = Experiment.AttackConfig.builder("lavan").optSteps(LAVAN_STEPS).optEot(EOT)
                .optFraction(LAVAN_FRACTION).build();
        return List.of(
                new Threat("pgd", "PGD l-inf 8/255", experiment("demo-pgd", images, seed,
                        List.of("none", "jpeg:75", "median:3", "diffpure:0.1:ddim10"), pgd)),
                new Threat("lavan", "LaVAN patch 9x9", experiment("demo-lavan", images, seed,
                        List.of("none", "jpeg:75", "median:3", "lgs", PANEL_DEFENSE), lavan)));
    }

    private static Experiment experiment(String name, int images, long seed, List<String> defenses,
            Experiment.AttackConfig attack) {
        return Experiment.builder(name, CLASSIFIER).optSubset("eval512").optImages(images).optProfile("quick")
                .optSeeds(seed).optDefenses(defenses).optModes("nonadaptive", "adaptive").optAttacks(attack)
                .optBatch(BATCH).optGradient("auto").build();
    }

    /**
     * Empties {@code dir} when it holds an earlier demo run (the demo always recomputes: it is the check a newcomer
     * runs on today's code); refuses a folder that holds anything else.
     */
    static void clear(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        RunDirectory run = new RunDirectory(dir);
        if (!isEmpty(dir) && !(run.hasManifest() && isDemo(run))) {
            throw new LustraException(dir + " exists and is not a run of lustra demo; choose another --out folder.");
        }
        try {
            Files2.deleteTree(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot clear the earlier demo run in " + dir, e);
        }
    }

    /** A demo killed before its first manifest leaves an empty folder. */
    private static boolean isEmpty(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.findAny().isEmpty();
        } catch (IOException e) {
            throw new LustraException("--out holds " + dir + ", which is not a folder; choose another --out folder.");
        }
    }

    private static boolean isDemo(RunDirectory run) {
        try {
            Manifest m = run.readManifest();
            return m.experiment() != null && m.experiment().name().startsWith("demo-");
        } catch (RuntimeException e) {
            return false; // a damaged manifest: not provably ours, so not ours to delete
        }
    }
}
