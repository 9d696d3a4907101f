package org.lustra.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lustra.app.Prediction;
import org.lustra.app.Workbench;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.Purifier;
import org.lustra.eval.AttackRegistry;
import org.lustra.eval.Experiment;
import org.lustra.eval.ExperimentRunner;
import org.lustra.eval.Report;
import org.lustra.eval.RunDirectory;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.model.Predictions;
import org.lustra.nn.NativeWarnings;
import org.lustra.util.Progress;
import org.lustra.util.Versions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"The main job on the shipped models and images, in about two minutes: attack a few eval512 "
                + "images with PGD (l-inf 8/255) and a LaVAN 9x9 patch, defend them with each shipped defence that "
                + "addresses the threat, and print clean and robust counts under a non-adaptive and an adaptive "
                + "attacker with the gradient route of each.",
            "Writes the harness's run folders (report.md, samples.jsonl) and panel.png (adversarial | anomaly map | "
                    + "mask | purified | clean, with predictions) under --out.",
            "A smoke-sized demonstration, not a measurement: for real numbers use lustra eval run."})
final class DemoCommand implements Callable<Integer> {
    private static final List<String> CLASSIFIERS = List.of("classifier-resnet", "classifier-vit", "classifier-cnn2",
            "classifier-digits");

    @Option(names = "--out", defaultValue = "out/demo",
            description = "Output folder, created if missing (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--images", defaultValue = "8",
            description = "eval512 images to attack (default ${DEFAULT-VALUE}; the time grows with it).")
    int images;

    @Option(names = "--seed", defaultValue = "1", description = "Run seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--classifiers", description = "First check every shipped classifier's clean accuracy against its "
            + "model card (about 10 s more).")
    boolean classifiers;

    @Override
    public Integer call() {
        if (images < 1 || images > 64) {
            throw new IllegalArgumentException("Invalid --images " + images + ": must be in 1..64 (the demo is a "
                    + "smoke test; use lustra eval run for more).");
        }
        Common.requireFolder(out, "--out");
        long t0 = System.nanoTime();
        NativeWarnings.quiet();
        PrintStream o = System.out;
        o.printf(Locale.ROOT, "Lustra demo: a smoke-sized demonstration on %d eval512 image(s) with shortened attacks "
                + "(PGD %d steps, LaVAN %d iterations, EOT %d) -- not a measurement.%n", images, DemoPlan.PGD_STEPS,
                DemoPlan.LAVAN_STEPS, DemoPlan.EOT);
        o.println("For real numbers run an experiment: ./lustra eval run experiments/classic-defences.json "
                + "(README, \"Evaluating defences\").");
        if (classifiers) {
            o.println();
            checkClassifiers(o);
        }
        ImageSet eval = Subsets.load("eval512");
        List<DemoPlan.Threat> threats = DemoPlan.threats(images, seed);
        Map<DemoPlan.Threat, Report.Summary> results = new LinkedHashMap<>();
        try (Workbench bench = Workbench.open(DemoPlan.CLASSIFIER)) {
            for (DemoPlan.Threat t : threats) {
                results.put(t, run(t, bench, eval));
            }
            o.println();
            o.printf("Protected classifier: %s. Robust = still classified correctly after the attack.%n%n",
                    DemoPlan.CLASSIFIER);
            results.forEach((t, s) -> {
                DemoTable.print(o, t, s);
                o.println();
            });
            DemoTable.legend(AttackRegistry.votes(AttackRegistry.Profile.QUICK)).forEach(o::println);
            o.println();
            panel(o, bench, eval, threats.get(threats.size() - 1));
        }
        o.printf(Locale.ROOT, "Reports (threat model, budget and gradient route of every cell): %s%n",
                String.join(", ", threats.stream().map(t -> out.resolve(t.key()).resolve("report.md").toString())
                        .toList()));
        o.printf(Locale.ROOT, "Done in %s.%n", Progress.formatDuration((System.nanoTime() - t0) / 1e9));
        return Main.OK;
    }

    /** The first check: every shipped classifier loads (hash verified) and classifies the shipped images. */
    private void checkClassifiers(PrintStream o) {
        ImageSet eval = Subsets.load("eval512");
        ImageSet digits = Subsets.load("digits-holdout");
        for (String name : CLASSIFIERS) {
            ModelCard card = ModelStore.readCard(ModelStore.resolve(name));
            boolean isDigits = name.equals("classifier-digits");
            ImageSet set = isDigits ? digits : eval;
            String key = isDigits ? "holdout_accuracy" : "test_accuracy";
            double acc;
            try (NetClassifier c = ModelStore.loadClassifier(name)) {
                acc = Predictions.accuracy(Predictions.predict(c, set, 256, null), set);
            }
            Double recorded = card.metrics().get(key);
            o.printf(Locale.ROOT, "%-18s %-15s %6.2f%%   (model card: %s)%n", name,
                    isDigits ? "digits-holdout" : "eval512", 100 * acc, recorded == null ? "-"
                            : String.format(Locale.ROOT, "%.2f%% on the %s", 100 * recorded,
                                    isDigits ? "hold-out" : "10k test split"));
        }
        o.println("(eval512 is, by construction, 512 test images classifier-resnet gets right.)");
    }

    /** Runs one threat's experiment in its own run folder (emptied first) and returns the harness's summary. */
    private Report.Summary run(DemoPlan.Threat threat, Workbench bench, ImageSet eval) {
        Path dir = out.resolve(threat.key());
        DemoPlan.clear(dir);
        System.err.printf(Locale.ROOT, "%s: %d defence(s) x non-adaptive and adaptive on %d image(s)...%n",
                threat.title(), threat.experiment().defenses().size() - 1, images);
        // neither PGD nor LaVAN trains on images, so the runner gets no training set
        try (ExperimentRunner runner = new ExperimentRunner(threat.experiment(), new ExperimentRunner.Inputs(
                bench.classifier(), eval, null), dir, System.err::println)) {
            // the demo's output holds results, not code: rewriting it must not mark the commit "-dirty" (the whole
            // output folder: this threat's own was emptied above and may not exist yet)
            runner.run(runner.manifest(ExperimentCommands.gitCommit(out), Versions.describe()));
        }
        return Report.write(dir);
    }

    /**
     * The panel: the LaVAN inputs of the non-adaptive and the adaptive DIFFender cells (read from the harness's example
     * panels of those cells), purified once more with their anomaly maps and masks.
     */
    private void panel(PrintStream o, Workbench bench, ImageSet eval, DemoPlan.Threat lavan) {
        Path dir = out.resolve(lavan.key());
        int n = Math.min(images, Math.min(DemoPlan.BATCH, 8));
        System.err.printf(Locale.ROOT, "Panel: purifying %d non-adaptive and %d adaptive LaVAN images once more with "
                + "%s for their masks...%n", n, n, DemoPlan.PANEL_DEFENSE);
        int size = bench.size();
        float[] clean = cleanImages(eval, n);
        int[] labels = Arrays.copyOf(eval.labels(), n);
        Purifier purifier = bench.purifier(DefenseSpec.parse(DemoPlan.PANEL_DEFENSE));
        List<Prediction> cleanPredictions = bench.classify(clean, n, 1);
        List<DemoPanel.Block> blocks = new ArrayList<>();
        for (Experiment.Cell cell : lavan.experiment().cells()) {
            if (!cell.defense().equals(DemoPlan.PANEL_DEFENSE)) {
                continue;
            }
            float[] adv = DemoPanel.adversarialRow(new RunDirectory(dir).exampleFile(cell.id()), n, size);
            Workbench.Batch purified = bench.purify(purifier, adv, n, seed, 1);
            String title = cell.adaptive() ? "Adaptive LaVAN: the attack differentiates through DIFFender (STE, EOT "
                    + DemoPlan.EOT + ")" : "Non-adaptive LaVAN: the attack sees the classifier alone";
            blocks.add(new DemoPanel.Block(title, adv, purified.images(), clean, cleanPredictions, labels));
        }
        Path file = out.resolve("panel.png");
        boolean labelled = new DemoPanel(size, bench.classifier().classNames()).write(file,
                DemoPlan.PANEL_DEFENSE + " on " + DemoPlan.CLASSIFIER + " (one purification, seed " + seed + ")",
                blocks);
        o.println("Panel: " + file + " (adversarial | anomaly map | mask | purified | clean)"
                + (labelled ? "" : "; drawn without labels: Java found no font (apt-get install fonts-dejavu-core)"));
    }

    private static float[] cleanImages(ImageSet eval, int n) {
        int d = eval.imageSize();
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(eval.imageFloats(i), 0, x, i * d, d);
        }
        return x;
    }
}
