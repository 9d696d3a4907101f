package org.lustra.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.lustra.data.ImageSet;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.hetero.Ensemble;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.eval.calibration.HeteroGrid;
import org.lustra.eval.calibration.HeteroSweep;
import org.lustra.eval.calibration.HeteroSweepReport;
import org.lustra.model.Classifier;
import org.lustra.util.Files2;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;
import picocli.CommandLine.Option;

/**
 * {@code lustra calibrate hetero}: the validation sweep that chooses heterogeneous-noise purification's defaults
 * ({@link HeteroSweep}). Its options are a mixin of {@link CalibrateCommand}; the sweep never reads eval512.
 */
final class CalibrateHetero {

    /** The grid and the proxy attack; every list is comma-separated and the candidates are their product. */
    static final class Options {
        @Option(names = "--model", description = "hetero: diffusion model to run on (default ${DEFAULT-VALUE}).",
                defaultValue = DiffusionModel.DEFAULT)
        String model;

        @Option(names = "--noise", split = ",", description = "hetero: (t_l/t_s) pairs, fractions of T (default "
                + "${DEFAULT-VALUE}).", defaultValue = "0.1/0.05,0.2/0.05,0.2/0.1,0.3/0.1")
        List<String> noise;

        @Option(names = "--thresholds", split = ",", description = "hetero: mask thresholds, tauX (value) or topX "
                + "(pixel share) (default ${DEFAULT-VALUE}).", defaultValue = "tau0.5,tau0.7,tau0.9,top0.1,top0.2")
        List<String> thresholds;

        @Option(names = "--norms", split = ",", description = "hetero: minmax and/or softmax (default "
                + "${DEFAULT-VALUE}).", defaultValue = "minmax")
        List<String> norms;

        @Option(names = "--resampling", split = ",", description = "hetero: singleU, multiU or nors (default "
                + "${DEFAULT-VALUE}).", defaultValue = "single3")
        List<String> resampling;

        @Option(names = "--stages", split = ";", description = "hetero: stage sets separated by ';', each 'all' or "
                + "'A,B' (0-based) (default ${DEFAULT-VALUE}).", defaultValue = "all")
        List<String> stages;

        @Option(names = "--leave-one-out", description = "hetero: the stage sets are all stages and each one left out "
                + "(seed Table 7); overrides --stages.")
        boolean leaveOneOut;

        @Option(names = "--members", split = ",", description = "hetero: ensemble sizes S (default ${DEFAULT-VALUE}).",
                defaultValue = "1")
        List<Integer> members;

        @Option(names = "--aggregation", split = ",", description = "hetero: vote and/or mean, for S > 1 (default "
                + "${DEFAULT-VALUE}).", defaultValue = "vote")
        List<String> aggregation;

        @Option(names = "--base", description = "hetero: spec options added to every candidate, e.g. stride2:eta0.",
                defaultValue = "")
        String base;

        @Option(names = "--eps", description = "hetero: l-inf budget of the transferred PGD proxy (default "
                + "${DEFAULT-VALUE} = 8/255).", defaultValue = "0.0313725")
        double eps;

        @Option(names = "--pgd-steps", description = "hetero: PGD iterations (default ${DEFAULT-VALUE}).",
                defaultValue = "20")
        int pgdSteps;

        @Option(names = "--batch", description = "hetero: images per purification call (default ${DEFAULT-VALUE}).",
                defaultValue = "32")
        int batch;

        @Option(names = "--reference", split = ",", description = "hetero: defences measured beside the candidates "
                + "on the same images and seeds, shown for comparison and never chosen, e.g. diffpure:0.1:ddim10.")
        List<String> references = new ArrayList<>();

        @Option(names = "--relative-to", description = "hetero: a --reference whose clean accuracy the --max-drop is "
                + "measured from instead of the undefended classifier's (at a coarse stride every diffusion purifier "
                + "costs clean accuracy; the seed's claim is robustness at DiffPure's clean accuracy or better).")
        String relativeTo;

        @Option(names = "--name", description = "hetero: output file name without extension (default "
                + "hetero-MODEL-CLASSIFIER).")
        String name;

        HeteroGrid grid(Classifier c) {
            List<Ensemble.Aggregation> aggs = new ArrayList<>();
            for (String a : aggregation) {
                aggs.add(switch (a.toLowerCase(Locale.ROOT)) {
                    case "vote" -> Ensemble.Aggregation.VOTE;
                    case "mean" -> Ensemble.Aggregation.MEAN;
                    default -> throw new LustraException("Unknown --aggregation '" + a + "'; use vote or mean.");
                });
            }
            List<String> sets = new ArrayList<>();
            if (leaveOneOut) {
                sets.addAll(HeteroGrid.leaveOneOut(stageCount(c)));
            } else {
                for (String s : stages) {
                    sets.add(s.equals("all") ? s : "stages" + s);
                }
            }
            try {
                return new HeteroGrid(noise, thresholds, norms, resampling, sets, base, members, aggs);
            } catch (IllegalArgumentException e) {
                throw new LustraException("Invalid hetero sweep: " + e.getMessage() + ".");
            }
        }
    }

    private CalibrateHetero() {}

    /** Runs the sweep of {@code o} on validation images {@code first..first+images-1}; returns the exit code. */
    static int run(CalibrateCommand cmd, Options o, ImageSet validation, Classifier c) {
        HeteroGrid grid = o.grid(c);
        // trimmed and once each: "a, b" and a repeated spec must not measure a reference twice or miss --relative-to
        o.references = o.references.stream().map(String::trim).filter(r -> !r.isEmpty()).distinct().toList();
        o.relativeTo = o.relativeTo == null ? null : o.relativeTo.trim();
        o.references.forEach(DefenseSpec::parse); // a bad --reference fails here, not after the candidates ran
        if (o.relativeTo != null && !o.references.contains(o.relativeTo)) {
            throw new LustraException("--relative-to " + o.relativeTo + " is not one of the --reference defences "
                    + o.references + "; add it to --reference.");
        }
        List<HeteroGrid.Candidate> candidates;
        try {
            candidates = grid.candidates();
        } catch (IllegalArgumentException e) {
            throw new LustraException("Invalid hetero sweep candidate: " + e.getMessage() + ".");
        }
        String modelName = Path.of(o.model).getFileName().toString();
        String key = o.name != null ? o.name : "hetero-" + modelName + "-" + c.name();
        ImageSet images = validation.subset(IntStream.range(cmd.first, cmd.first + cmd.images).toArray());
        HeteroSweep.Settings settings = new HeteroSweep.Settings(c.name(), o.model, String.format(Locale.ROOT,
                "data/validation images %d..%d", cmd.first, cmd.first + cmd.images - 1), cmd.images, o.eps,
                o.pgdSteps, cmd.seed, o.batch);
        Path journal = LustraHome.checkpoints().resolve("calibration").resolve(String.format(Locale.ROOT,
                "%s-first%d-n%d.jsonl", key, cmd.first, cmd.images));
        String command = String.join(" ", List.of("lustra calibrate hetero", "--classifier", cmd.classifier,
                "--model", o.model, "--images", Integer.toString(cmd.images), "--first", Integer.toString(cmd.first),
                "--noise", String.join(",", o.noise), "--thresholds", String.join(",", o.thresholds), "--norms",
                String.join(",", o.norms), "--resampling", String.join(",", o.resampling),
                o.leaveOneOut ? "--leave-one-out" : "--stages '" + String.join(";", o.stages) + "'",
                "--members", o.members.stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElse("1"),
                "--aggregation", String.join(",", o.aggregation), o.base.isEmpty() ? "" : "--base " + o.base,
                "--eps", Double.toString(o.eps), "--pgd-steps", Integer.toString(o.pgdSteps), "--batch",
                Integer.toString(o.batch), o.references.isEmpty() ? "" : "--reference " + String.join(",",
                        o.references), o.relativeTo == null ? "" : "--relative-to " + o.relativeTo,
                "--max-drop", Double.toString(cmd.maxDrop), "--seed",
                Long.toString(cmd.seed))).replaceAll(" +", " ");
        System.out.printf(Locale.ROOT, "Sweeping %d hetero candidates and %d references for %s on %s (%s); journal "
                + "%s%n", candidates.size(), o.references.size(), c.name(), settings.images(), o.model, journal);
        HeteroSweep.Result r;
        try (DefenseFactory factory = new DefenseFactory(o.model)) {
            r = HeteroSweep.run(candidates, o.references, c, factory, images, settings,
                    new HeteroSweep.Rule(cmd.maxDrop, o.relativeTo), journal, command, System.out::println);
        }
        Path dir = cmd.out != null ? cmd.out : LustraHome.root().resolve("docs/results/calibration");
        Json.writeAtomically(dir.resolve(key + ".json"), r);
        Files2.writeAtomically(dir.resolve(key + ".md"), HeteroSweepReport.markdown(r)
                .getBytes(StandardCharsets.UTF_8));
        System.out.println((r.ruleMet() ? "Chose " : "No candidate met the rule; best clean accuracy: ") + r.chosen()
                + "; wrote " + dir.resolve(key + ".json") + " and .md. The defaults in HeteroOptions change only by "
                + "editing them with this file as their evidence.");
        return 0;
    }

    /** How many stage activations {@code c} returns (one forward of a blank image). */
    private static int stageCount(Classifier c) {
        try (NDManager m = NDManager.newBaseManager()) {
            return c.forward(m.zeros(new Shape(1, c.channels(), c.size(), c.size()))).stages().size();
        }
    }
}
