package org.lustra.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefenseSpec;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.eval.AttackRegistry;
import org.lustra.eval.Experiment;
import org.lustra.eval.ExperimentRunner;
import org.lustra.eval.Report;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.nn.NativeWarnings;
import org.lustra.util.LustraException;
import org.lustra.util.Versions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lustra attack patch}: one patch attack against one defence on the first N eval512 images, run as a one-cell
 * experiment of the evaluation harness (so EOT, K-vote confirmation, the three scores, worst-of routes and the sanity
 * checks are the harness's own), written to a run folder that a rerun resumes.
 */
@Command(name = "patch", mixinStandardHelpOptions = true,
        description = {"A patch attack (lavan, evade-lavan, gdpa, advp, rhde) against one defence on the first N eval512 "
                + "images, through the evaluation harness; prints clean and robust accuracy (single draw, majority of "
                + "K, any-of-K) with the gradient route of every cell.",
            "evade-lavan is the localiser-aware evade-then-fool attack on DIFFender; --gradient masked is DIFFender's "
                    + "corrected surrogate; --gradient worst-of runs every route (STE, MASKED, BPDA and, for lavan, "
                    + "evade-lavan) and keeps the worst per image."})
final class AttackPatchCommand implements Callable<Integer> {
    @Option(names = "--attack", defaultValue = "evade-lavan", description = "Patch attack (default ${DEFAULT-VALUE}).")
    String attack;

    @Option(names = "--defense", defaultValue = DefenseSpec.DIFFENDER_DEFAULT,
            description = "Defence spec as in experiments (default ${DEFAULT-VALUE}).")
    String defense;

    @Option(names = "--gradient", defaultValue = "auto", description = "Route of adaptive attacks: auto, ste, masked, "
            + "bpda, exact, surrogate or worst-of (default ${DEFAULT-VALUE}).")
    String gradient;

    @Option(names = "--modes", split = ",", defaultValue = "adaptive",
            description = "nonadaptive and/or adaptive, comma-separated (default ${DEFAULT-VALUE}).")
    List<String> modes;

    @Option(names = "--fraction", defaultValue = "0.05", description = "Patch area (default ${DEFAULT-VALUE}).")
    double fraction;

    @Option(names = "--steps", description = "Iterations (default: the profile's).")
    Integer steps;

    @Option(names = "--eot", description = "EOT copies against a randomised defence (default: the profile's).")
    Integer eot;

    @Option(names = "--profile", defaultValue = "quick", description = "quick or paper (default ${DEFAULT-VALUE}).")
    String profile;

    @Option(names = "--images", defaultValue = "8", description = "eval512 images (default ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--model", defaultValue = "classifier-resnet", description = "Classifier (default ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--seed", defaultValue = "1", description = "Run seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--diffusion", defaultValue = DiffusionModel.DEFAULT, paramLabel = "NAME",
            description = "Diffusion model of a diffusion defence, a name under models/ (default ${DEFAULT-VALUE}).")
    String diffusion;

    @Option(names = "--out", defaultValue = "out/attack-patch", description = "Run folder; a rerun of the same command "
            + "resumes it (default ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() {
        if (!AttackRegistry.isPatch(attack)) {
            throw new LustraException("--attack " + attack + " is not a patch attack; use one of "
                    + AttackRegistry.PATCH_NAMES + " (lp attacks: lustra attack pgd or an experiment).");
        }
        if (images < 1 || images > 512) {
            throw new LustraException("Invalid --images " + images + " (1..512).");
        }
        if (!diffusion.matches("[A-Za-z0-9._-]+")) {
            throw new LustraException("--diffusion names a model under models/ (letters, digits, '.', '_' or '-'), got "
                    + diffusion + "; the run records the name so that it can be reproduced.");
        }
        ModelStore.resolve(diffusion);
        Common.requireFolder(out, "--out");
        NativeWarnings.quiet();
        // as in experiment configs, no "diffusion" field means the one model there was before the field existed: runs
        // made then keep resuming, and a defence without a diffusion model records none
        boolean onDiffusion = DefenseSpec.parse(defense).usesDiffusionModel();
        String named = onDiffusion && !diffusion.equals(DiffusionModel.UNNAMED_IN_CONFIGS) ? diffusion : null;
        Experiment exp = Experiment.builder("attack-" + attack, model).optSubset("eval512").optImages(images)
                .optProfile(profile).optSeeds(seed).optDefenses(defense).optModes(modes)
                .optAttacks(Experiment.AttackConfig.builder(attack).optSteps(steps).optEot(eot).optFraction(fraction)
                        .build())
                .optBatch(Math.min(images, 8)).optGradient(gradient).optDiffusion(named).build();
        ImageSet eval = Subsets.load(exp.subset());
        ImageSet train = Subsets.load("validation");
        try (NetClassifier c = ModelStore.loadClassifier(model);
                ExperimentRunner runner = new ExperimentRunner(exp, new ExperimentRunner.Inputs(c, eval, train), out,
                        System.err::println)) {
            runner.run(runner.manifest(ExperimentCommands.gitCommit(out), Versions.describe()));
        }
        Report.Summary s = Report.write(out);
        for (Report.CellSummary r : s.cells()) {
            System.out.printf(Locale.ROOT, "%s%n  clean %.2f%%, robust %.2f%% (majority of K; single draw %s, any-of-K "
                    + "%s), %d images, %.0f ms/image%n  %s; %s%n  gradient: %s%n", r.cell(), 100 * r.cleanAccuracy(),
                    100 * r.robustMean(), percent(r.singleRobust()), percent(r.anyCopyRobust()), r.images(),
                    r.msPerImage(), r.threatModel(), r.budget(), r.gradientMode());
        }
        if (onDiffusion) {
            System.out.println("diffusion model: " + exp.diffusionModel());
        }
        long failed = s.checks().stream().filter(ch -> !ch.passed()).count();
        System.out.println("Report: " + out.resolve("report.md") + (failed > 0 ? "  (" + failed
                + " sanity check(s) FAILED, see the report)" : "  (all sanity checks passed)"));
        return Main.OK;
    }

    private static String percent(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }
}
