package org.lustra.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lustra.data.FashionMnist;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.disco.Disco;
import org.lustra.defense.disco.DiscoNetwork;
import org.lustra.defense.disco.DiscoTraining;
import org.lustra.defense.learned.LearnedModels;
import org.lustra.defense.learned.PairTraining;
import org.lustra.defense.maep.Maep;
import org.lustra.defense.maep.MaepNetwork;
import org.lustra.defense.maep.MaepTraining;
import org.lustra.model.Classifier;
import org.lustra.model.ModelCard;
import org.lustra.model.NetClassifier;
import org.lustra.model.ModelStore;
import org.lustra.util.LustraHome;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lustra train maep} and {@code lustra train disco}: the purifier networks of SPEC §6, trained on PGD pairs of
 * the Fashion-MNIST training images outside data/validation, made on the fly against the protected classifier.
 */
final class TrainPurifierCommands {
    private TrainPurifierCommands() {}

    /** What both commands share: data, classifier, run length, checkpoints, the card. */
    abstract static class PurifierCommand implements Callable<Integer> {
        @Option(names = "--name", description = "Model name: models/NAME and the checkpoint folder (default: "
                + "maep-fmnist or disco-fmnist).")
        String name;

        @Option(names = "--classifier", description = "The protected classifier the PGD pairs attack (default "
                + "${DEFAULT-VALUE}).", defaultValue = "classifier-resnet")
        String classifier;

        @Option(names = "--steps", description = "Optimiser steps (default ${DEFAULT-VALUE}).", defaultValue = "5000")
        int steps;

        @Option(names = "--batch-size", description = "Pairs per step (default ${DEFAULT-VALUE}).",
                defaultValue = "64")
        int batchSize;

        @Option(names = "--lr", description = "Peak learning rate (default ${DEFAULT-VALUE}).", defaultValue = "5e-4")
        float lr;

        @Option(names = "--pgd-steps", description = "PGD iterations per pair (default ${DEFAULT-VALUE}).",
                defaultValue = "7")
        int pgdSteps;

        @Option(names = "--seed", description = "Seed (default ${DEFAULT-VALUE}).", defaultValue = "13")
        long seed;

        @Option(names = "--data-dir", description = "Fashion-MNIST IDX directory.")
        Path dataDir;

        @Option(names = "--checkpoint-dir",
                description = "Checkpoint directory (default: $LUSTRA_CHECKPOINTS or ~/.cache/lustra/checkpoints, /NAME).")
        Path checkpointDir;

        @Option(names = "--out", description = "Model directory (default: models/NAME).")
        Path out;

        abstract String kind();

        abstract String defaultName();

        abstract String role();

        abstract PairTraining.Options options();

        abstract PairTraining.Result train(ImageSet train, Classifier c, PairTraining.Options opt, Path ckpt);

        @Override
        public Integer call() {
            String model = name != null ? name : defaultName();
            PairTraining.Options opt = options();
            Subsets.Manifest manifest = Subsets.manifest(LustraHome.data());
            ImageSet all = FashionMnist.load(FashionMnist.resolveDir(dataDir), FashionMnist.Split.TRAIN);
            int[] idx = Subsets.trainingIndices(manifest, all.size());
            ImageSet train = all.subset(idx);
            Path ckpt = checkpointDir != null ? checkpointDir : LustraHome.checkpoints().resolve(model);
            Path modelDir = out != null ? out : LustraHome.models().resolve(model);
            try (NetClassifier c = ModelStore.loadClassifier(classifier)) {
                System.out.printf(Locale.ROOT, "Training %s on %d images for %d steps of %d PGD pairs against %s; "
                        + "checkpoints in %s%n", model, train.size(), steps, batchSize, c.name(), ckpt);
                PairTraining.Result r = train(train, c, opt, ckpt);
                try {
                    String command = String.format(Locale.ROOT, "lustra train %s --name %s --classifier %s --steps %d"
                            + " --batch-size %d --lr %s --pgd-steps %d --seed %d", kind(), model, classifier, steps,
                            batchSize, lr, pgdSteps, seed);
                    ModelCard card = LearnedModels.card(model, role(), r, opt, c.name(), c.classNames(),
                            "fashion-mnist: Debian dataset-fashion-mnist IDX files",
                            "trained on the " + idx.length + " training images outside data/validation (seed "
                                    + manifest.seed() + ")", command);
                    LearnedModels.save(r.network(), card, modelDir);
                    String spec = out != null ? kind() + ":" + modelDir
                            : model.equals(defaultName()) ? kind() : kind() + ":" + model;
                    System.out.println("Wrote " + modelDir + "; use it with --defense " + spec);
                } finally {
                    r.network().close();
                }
            }
            return 0;
        }
    }

    @Command(name = "maep", mixinStandardHelpOptions = true,
            description = {"Train MAEP, the masked-autoencoder purifier (seed 003): a ViT MAE with patch 2, mask "
                    + "ratio 0.5, loss l1 on visible + l1 on hidden patches, on PGD pairs (eps 0, 4/255, 8/255, 0.1) "
                    + "with the clean image as target.",
                "It checkpoints every few minutes; rerun the same command to resume. On completion it writes "
                    + "models/NAME (weights and model card)."})
    static final class MaepCommand extends PurifierCommand {
        @Override
        String kind() {
            return MaepNetwork.KIND;
        }

        @Override
        String defaultName() {
            return Maep.DEFAULT_MODEL;
        }

        @Override
        String role() {
            return MaepTraining.ROLE;
        }

        @Override
        PairTraining.Options options() {
            return MaepTraining.defaults(steps, batchSize, lr, pgdSteps, seed);
        }

        @Override
        PairTraining.Result train(ImageSet train, Classifier c, PairTraining.Options opt, Path ckpt) {
            return MaepTraining.train(MaepNetwork.Config.small(c.channels(), c.size()), train, c, opt, ckpt,
                    System.out::println);
        }
    }

    @Command(name = "disco", mixinStandardHelpOptions = true,
            description = {"Train the DISCO-style purifier: an EDSR-like encoder and a local implicit function head, "
                    + "l1 to the clean image on the same PGD pairs as MAEP.",
                "It checkpoints every few minutes; rerun the same command to resume. On completion it writes "
                    + "models/NAME (weights and model card)."})
    static final class DiscoCommand extends PurifierCommand {
        @Override
        String kind() {
            return DiscoNetwork.KIND;
        }

        @Override
        String defaultName() {
            return Disco.DEFAULT_MODEL;
        }

        @Override
        String role() {
            return DiscoTraining.ROLE;
        }

        @Override
        PairTraining.Options options() {
            return DiscoTraining.defaults(steps, batchSize, lr, pgdSteps, seed);
        }

        @Override
        PairTraining.Result train(ImageSet train, Classifier c, PairTraining.Options opt, Path ckpt) {
            return DiscoTraining.train(DiscoNetwork.Config.small(c.channels(), c.size()), train, c, opt, ckpt,
                    System.out::println);
        }
    }
}
