package org.lustra.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lustra.data.DigitsSheet;
import org.lustra.data.FashionMnist;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.diffusion.Captions;
import org.lustra.diffusion.DiffusionConfig;
import org.lustra.diffusion.DiffusionTraining;
import org.lustra.model.ClassifierPresets;
import org.lustra.model.ClassifierTraining;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.nn.GroupNorm;
import org.lustra.util.LustraHome;
import org.lustra.util.Versions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", description = "Train the shipped models.", mixinStandardHelpOptions = true,
        subcommands = {TrainCommand.ClassifierCommand.class, TrainCommand.DiffusionCommand.class,
            TrainPurifierCommands.MaepCommand.class, TrainPurifierCommands.DiscoCommand.class,
            TrainSacCommand.class, TrainJediCommand.class})
final class TrainCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "classifier", mixinStandardHelpOptions = true,
            description = {"Train a classifier (resnet, vit, cnn2 on Fashion-MNIST; digits on the OpenCV "
                    + "digits), checkpointing every few minutes; rerun the same command to resume.",
                "On completion the weights and model card go to models/<name>/ and the test (or "
                    + "hold-out) accuracy is measured and recorded."})
    static final class ClassifierCommand implements Callable<Integer> {
        @Option(names = "--arch", required = true, description = "resnet | vit | cnn2 | digits")
        String arch;

        @Option(names = "--epochs", description = "Epochs (default: the preset's).")
        Integer epochs;

        @Option(names = "--batch-size", description = "Batch size (default: the preset's).")
        Integer batchSize;

        @Option(names = "--lr", description = "Peak learning rate (default: the preset's).")
        Float lr;

        @Option(names = "--seed", description = "Seed (default: the preset's).")
        Long seed;

        @Option(names = "--data-dir", description = "Fashion-MNIST IDX directory.")
        Path dataDir;

        @Option(names = "--digits", description = "digits.png path.")
        Path digits;

        @Option(names = "--checkpoint-dir",
                description = "Checkpoint directory (default: $LUSTRA_CHECKPOINTS or ~/.cache/lustra/checkpoints, /<name>).")
        Path checkpointDir;

        @Option(names = "--out", description = "Model directory (default: models/<name>).")
        Path out;

        @Override
        public Integer call() {
            ClassifierPresets.Preset p = ClassifierPresets.get(arch);
            ClassifierTraining.Options d = p.options();
            ClassifierTraining.Options opt = new ClassifierTraining.Options(epochs != null ? epochs : d.epochs(),
                    batchSize != null ? batchSize : d.batchSize(), lr != null ? lr : d.learningRate(), d.weightDecay(),
                    d.warmupSteps(), d.flip(), d.maxShift(), seed != null ? seed : d.seed(), d.checkpointSeconds());
            Subsets.Manifest manifest = Subsets.manifest(LustraHome.data());
            ImageSet train;
            ImageSet val;
            String data;
            String split;
            if (p.dataset().equals("digits")) {
                ImageSet all = DigitsSheet.load(DigitsSheet.resolvePath(digits));
                int[] idx = Subsets.digitsTrainingIndices(manifest, all.size());
                train = all.subset(idx);
                val = Subsets.load("digits-holdout");
                data = "digits: OpenCV digits.png (Debian opencv-doc), 5000 images 20x20 padded to 28x28";
                split = "trained on the " + idx.length + " digits outside data/digits-holdout (seed " + manifest.seed()
                        + "); measured on the 1000-image hold-out";
            } else {
                ImageSet all = FashionMnist.load(FashionMnist.resolveDir(dataDir), FashionMnist.Split.TRAIN);
                int[] idx = Subsets.trainingIndices(manifest, all.size());
                train = all.subset(idx);
                val = Subsets.load("validation");
                data = "fashion-mnist: Debian dataset-fashion-mnist IDX files";
                split = "trained on the " + idx.length + " training images outside data/validation (seed "
                        + manifest.seed() + "); validation = data/validation (5000); test = the full 10k test split";
            }
            Path ckpt = checkpointDir != null ? checkpointDir : LustraHome.checkpoints().resolve(p.modelName());
            Path modelDir = out != null ? out : LustraHome.models().resolve(p.modelName());
            System.out.printf(Locale.ROOT, "Training %s (%s) on %d images, validating on %d; checkpoints in %s%n",
                    p.modelName(), p.architecture(), train.size(), val.size(), ckpt);
            ClassifierTraining.Result r = ClassifierTraining.train(p.architecture(), train, val, opt, ckpt,
                    System.out::println);
            try {
                StringBuilder cmd = new StringBuilder("lustra train classifier --arch " + arch);
                if (epochs != null) {
                    cmd.append(" --epochs ").append(epochs);
                }
                if (batchSize != null) {
                    cmd.append(" --batch-size ").append(batchSize);
                }
                if (lr != null) {
                    cmd.append(" --lr ").append(lr);
                }
                if (seed != null) {
                    cmd.append(" --seed ").append(seed);
                }
                var training = new java.util.LinkedHashMap<String, Object>(opt.describe());
                training.put("steps", r.steps());
                training.put("history", r.history());
                ModelCard card = new ModelCard(p.modelName(), p.role(), p.architecture(), ModelStore.parameterCount(r.net()),
                        ClassifierPresets.classNames(p.dataset()), data, split, cmd.toString(), opt.seed(), training,
                        Math.round(r.wallSeconds() * 10) / 10.0, null, null, Versions.describe(), null, null, null)
                        .withMetric("validation_accuracy", r.validationAccuracy(),
                                "end of training, " + val.size() + " images");
                ModelStore.save(r.net(), card, modelDir);
                System.out.println("Wrote " + modelDir + "; measuring accuracy with 'lustra eval classifier --model "
                        + modelDir + " --record'");
            } finally {
                r.manager().close();
            }
            return EvalCommand.ClassifierEval.evaluate(modelDir.toString(), null, dataDir, true);
        }
    }

    @Command(name = "diffusion", mixinStandardHelpOptions = true,
            description = {"Train the unified text-conditioned, inpainting-capable diffusion model on the "
                    + "Fashion-MNIST training images outside data/validation.",
                "It checkpoints every few minutes; rerun the same command to resume. On "
                    + "completion it writes models/NAME (EMA weights and model card).",
                "The default recipe is v2 (caption grammar v2, prompt-token learning rate x10); "
                    + "--grammar v1 --text-lr-factor 1 is v1's."})
    static final class DiffusionCommand implements Callable<Integer> {
        static final DiffusionTraining.Options DEFAULTS =
                new DiffusionTraining.Options(24_000, 64, 2e-4f, 500, 0.999f, 0.25, true, 11L, 180,
                        Captions.Grammar.V2, 10f);

        @Option(names = "--name", description = "Model name: models/NAME and the checkpoint folder (default "
                + "${DEFAULT-VALUE}).", defaultValue = "diffusion-unified-v2")
        String name;

        @Option(names = "--grammar", description = "Caption grammar: V1 or V2 (default ${DEFAULT-VALUE}).",
                defaultValue = "V2")
        Captions.Grammar grammar;

        @Option(names = "--text-lr-factor", description = "Learning-rate factor of the prompt-token and position "
                + "tables (default ${DEFAULT-VALUE}).", defaultValue = "10")
        float textLrFactor;

        @Option(names = "--steps", description = "Optimiser steps (default ${DEFAULT-VALUE}).", defaultValue = "24000")
        int steps;

        @Option(names = "--batch-size", description = "Batch size (default ${DEFAULT-VALUE}).", defaultValue = "64")
        int batchSize;

        @Option(names = "--lr", description = "Peak learning rate (default ${DEFAULT-VALUE}).", defaultValue = "2e-4")
        float lr;

        @Option(names = "--seed", description = "Seed (default ${DEFAULT-VALUE}).", defaultValue = "11")
        long seed;

        @Option(names = "--data-dir", description = "Fashion-MNIST IDX directory.")
        Path dataDir;

        @Option(names = "--checkpoint-dir",
                description = "Checkpoint directory (default: $LUSTRA_CHECKPOINTS or ~/.cache/lustra/checkpoints, /diffusion-unified).")
        Path checkpointDir;

        @Option(names = "--out", description = "Model directory (default: models/NAME; with --snapshot "
                + "models/NAME-stepN).")
        Path out;

        @Option(names = "--snapshot", description = "Do not train: write the EMA weights of the latest checkpoint as a "
                + "model (card marked unfinished), to measure a run in progress with 'lustra eval diffusion --model "
                + "NAME-stepN'. Safe while the training runs.")
        boolean snapshot;

        @Override
        public Integer call() {
            var opt = new DiffusionTraining.Options(steps, batchSize, lr, DEFAULTS.warmupSteps(),
                    DEFAULTS.emaDecay(), DEFAULTS.occluderProbability(), DEFAULTS.flip(), seed,
                    DEFAULTS.checkpointSeconds(), grammar, textLrFactor);
            Subsets.Manifest manifest = Subsets.manifest(LustraHome.data());
            ImageSet all = FashionMnist.load(FashionMnist.resolveDir(dataDir), FashionMnist.Split.TRAIN);
            int[] idx = Subsets.trainingIndices(manifest, all.size());
            ImageSet train = all.subset(idx);
            var captions = new Captions(FashionMnist.CLASSES, grammar);
            var config = DiffusionConfig.fashionMnist(captions.vocabulary());
            Path ckpt = checkpointDir != null ? checkpointDir : LustraHome.checkpoints().resolve(name);
            DiffusionTraining.Result r;
            String modelName;
            if (snapshot) {
                r = DiffusionTraining.snapshot(config, FashionMnist.CLASSES, opt, ckpt);
                modelName = name + "-step" + r.steps();
            } else {
                System.out.printf(Locale.ROOT, "Training " + name + " (UNet widths %s) on %d images for %d steps of "
                        + "%d; checkpoints in %s%n", java.util.Arrays.toString(config.widths()), train.size(), steps,
                        batchSize, ckpt);
                r = DiffusionTraining.train(config, train, FashionMnist.CLASSES, opt, ckpt, System.out::println);
                modelName = name;
            }
            Path modelDir = out != null ? out : LustraHome.models().resolve(modelName);
            try {
                save(r, opt, config, modelName, modelDir, "trained on the " + idx.length + " training images outside "
                        + "data/validation (seed " + manifest.seed() + ")");
            } finally {
                r.model().close();
            }
            return 0;
        }

        private void save(DiffusionTraining.Result r, DiffusionTraining.Options opt, DiffusionConfig config,
                String modelName, Path modelDir, String split) {
            var training = new java.util.LinkedHashMap<String, Object>(opt.describe());
            if (snapshot) {
                // a card that cannot be mistaken for the finished model's
                training.put("snapshot", "EMA weights at step " + r.steps() + " of " + steps + "; training unfinished");
            }
            training.put("history", r.history());
            training.put("groupnorm_kernel", GroupNorm.Kernel.configured().toString());
            training.put("engine_threads", System.getProperty("ai.djl.pytorch.num_threads", "default"));
            training.put("steps_per_second", Math.round(r.steps() / r.wallSeconds() * 1000) / 1000.0);
            ModelCard card = new ModelCard(modelName,
                    "the one text-conditioned, inpainting-capable diffusion model every diffusion purifier uses",
                    null, ModelStore.parameterCount(r.model().net()), FashionMnist.CLASSES,
                    "fashion-mnist: Debian dataset-fashion-mnist IDX files", split,
                    String.format(Locale.ROOT, "lustra train diffusion --name %s --grammar %s --text-lr-factor %s"
                            + " --steps %d --batch-size %d --lr %s --seed %d", name, grammar, textLrFactor, steps,
                            batchSize, lr, seed),
                    seed, training, Math.round(r.wallSeconds() * 10) / 10.0, null, null, Versions.describe(), null,
                    null, null, config.asCardFields());
            ModelStore.save(r.model().net(), card, modelDir);
            System.out.println("Wrote " + modelDir + " (EMA weights" + (snapshot ? " at step " + r.steps() : "") + ")");
        }
    }
}
