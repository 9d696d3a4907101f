package org.lustra.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lustra.data.FashionMnist;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefenseSpec;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.model.Predictions;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "eval", description = "Evaluate models and defences.", mixinStandardHelpOptions = true,
        subcommands = {EvalCommand.ClassifierEval.class, DiffusionEval.class, LocalizeEval.class, CleanMaskEval.class,
            MaskQualityCommand.class, ExperimentCommands.Run.class, ExperimentCommands.ReportCommand.class,
            ExperimentCommands.ReproduceCommand.class, ExperimentCommands.Table1Command.class, WorstCommand.class,
            SeedsCommand.class, HeteroFigureCommand.class})
final class EvalCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "classifier", mixinStandardHelpOptions = true,
            description = {"Measure a classifier's clean accuracy.",
                "Splits: test (the full Fashion-MNIST test set, needs the Debian data), "
                    + "validation, eval512, eval512-tone (tone-shifted), fewshot8, digits-holdout, and any of "
                    + "these with a CIFAR-10-C corruption, NAME+brightness:S or NAME+contrast:S (S = 1..5), e.g. "
                    + "eval512+contrast:3. The default is test for Fashion-MNIST models and digits-holdout for "
                    + "classifier-digits.",
                "--record writes the result into the model card.",
                "--defense SPEC measures the classifier behind a defence instead (default split eval512): "
                    + "accuracy, where the errors fall, and PSNR / SSIM of the purified images to their inputs."})
    static final class ClassifierEval implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "Model name or directory.")
        String model;

        @Option(names = "--split", description = "Split to measure on.")
        String split;

        @Option(names = "--data-dir", description = "Fashion-MNIST IDX directory (for --split test).")
        Path dataDir;

        @Option(names = "--record", description = "Write the metric into the model card.")
        boolean record;

        @Option(names = "--defense", paramLabel = "SPEC", description = "Measure the classifier behind this defence "
                + "(any form `lustra purify --help` lists): accuracy, where the errors fall, and PSNR / SSIM of the "
                + "purified images to their inputs.")
        String defense;

        @Option(names = "--diffusion", paramLabel = "NAME", description = "With --defense: the diffusion model of a "
                + "diffusion defence (default " + DiffusionModel.DEFAULT + ").")
        String diffusion;

        @Option(names = "--seed", description = "With --defense: seed of a randomised defence's noise (default 1).")
        Long seed;

        @Override
        public Integer call() {
            if (defense == null) {
                if (diffusion != null || seed != null) {
                    throw new LustraException("--diffusion and --seed belong to --defense; without a defence the "
                            + "classifier alone is measured, so leave them out.");
                }
                return evaluate(model, split, dataDir, record);
            }
            DefenseSpec spec = DefenseSpec.parse(defense);
            if (spec.none()) {
                throw new LustraException("--defense none is the classifier alone; leave out --defense.");
            }
            if (record && !(spec instanceof DefenseSpec.LearnedSpec)) {
                throw new LustraException("--record with --defense writes into a trained purifier's card (maep, "
                        + "disco); " + spec.text() + " has none, so run again without --record.");
            }
            Path dir = ModelStore.resolve(model);
            String s = split != null ? split : defaultSplit(ModelStore.readCard(dir), "eval512");
            long sd = seed != null ? seed : 1;
            try (NetClassifier c = ModelStore.loadClassifier(dir.toString())) {
                DefenceCost.Result r = DefenceCost.measure(c, load(s, dataDir), s, spec, diffusion != null ? diffusion
                        : DiffusionModel.DEFAULT, sd, 64);
                if (record) {
                    recordInPurifierCard((DefenseSpec.LearnedSpec) spec, c.name(), s, sd, r);
                }
            }
            return 0;
        }

        /** A trained purifier's clean cost goes into its own card: what SPEC §6's bars are checked against. */
        private static void recordInPurifierCard(DefenseSpec.LearnedSpec spec, String classifier, String split,
                long seed, DefenceCost.Result r) {
            Path dir = ModelStore.resolve(spec.model());
            String how = String.format(Locale.ROOT, "lustra eval classifier --model %s --split %s --defense %s --seed %d"
                    + " (%d images)", classifier, split, spec.text(), seed, r.n());
            ModelCard card = ModelStore.readCard(dir)
                    .withMetric(split + "_accuracy_behind_" + classifier, r.accuracy(), how)
                    .withMetric(split + "_purified_psnr_db", r.psnrDb(), how + "; mean over changed images")
                    .withMetric(split + "_purified_ssim", r.ssim(), how);
            Json.writeAtomically(dir.resolve(ModelStore.CARD), card);
            System.out.println("Recorded accuracy, PSNR and SSIM in " + dir.resolve(ModelStore.CARD));
        }

        /** digits-holdout for a digits model (the only digits split), else {@code fashion}. */
        private static String defaultSplit(ModelCard card, String fashion) {
            boolean digits = card.data() != null && card.data().startsWith("digits");
            return digits ? "digits-holdout" : fashion;
        }

        /** The full Fashion-MNIST test split for "test", else a shipped subset (with its corruption suffix, if any). */
        private static ImageSet load(String split, Path dataDir) {
            return split.equals("test") ? FashionMnist.load(FashionMnist.resolveDir(dataDir), FashionMnist.Split.TEST)
                    : Subsets.load(split);
        }

        static int evaluate(String model, String split, Path dataDir, boolean record) {
            Path dir = ModelStore.resolve(model);
            ModelCard card = ModelStore.readCard(dir);
            String s = split != null ? split : defaultSplit(card, "test");
            ImageSet set = load(s, dataDir);
            String key = (s.equals("digits-holdout") ? "holdout" : s) + "_accuracy";
            try (NetClassifier c = ModelStore.loadClassifier(dir.toString())) {
                Progress progress = new Progress("eval " + card.name() + " on " + s, set.size(), "images");
                int[] pred = Predictions.predict(c, set, 250, progress);
                double acc = Predictions.accuracy(pred, set);
                int correct = (int) Math.round(acc * set.size());
                System.out.printf(Locale.ROOT, "%s on %s: accuracy %.2f%% (%d/%d)%n", card.name(), s, 100 * acc,
                        correct, set.size());
                Double before = card.metrics().get(key);
                if (before != null && !record) {
                    System.out.printf(Locale.ROOT, "model card records %s = %.2f%%: %s%n", key, 100 * before,
                            Math.abs(before - acc) < 1e-9 ? "reproduced exactly" : "DIFFERENT");
                }
                if (record) {
                    String how = String.format(Locale.ROOT, "lustra eval classifier --model %s --split %s (%d images)",
                            card.name(), s, set.size());
                    Json.writeAtomically(dir.resolve(ModelStore.CARD), card.withMetric(key, acc, how));
                    System.out.println("Recorded " + key + " in " + dir.resolve(ModelStore.CARD));
                }
                return 0;
            }
        }
    }
}
