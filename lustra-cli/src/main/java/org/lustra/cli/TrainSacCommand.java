package org.lustra.cli;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.sac.PatchBank;
import org.lustra.defense.sac.PatchSegmenter;
import org.lustra.defense.sac.SacTraining;
import org.lustra.defense.sac.TrainingPatches;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.LustraHome;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lustra train sac}: the SAC-like patch segmenter, trained on the first images of data/validation with pasted
 * patches; the last {@code --holdout} validation images are never seen, so the defence's threshold and completion
 * tolerance can be chosen on them afterwards.
 */
@Command(name = "sac", mixinStandardHelpOptions = true,
        description = {"Train the SAC-like patch segmenter (a small U-Net) on data/validation images with one pasted "
                + "patch each (uniform or blocky noise, natural crops, LaVAN patches made against --classifier on the "
                + "same training images; squares, rectangles, discs of 0.5-15 % of the image) or none.",
            "It checkpoints every few minutes; rerun the same command to resume. On completion it writes models/NAME "
                + "(weights and model card); use it with --defense sac[:NAME]."})
final class TrainSacCommand implements Callable<Integer> {
    @Option(names = "--name", description = "Model name (default ${DEFAULT-VALUE}).", defaultValue = "sac-fmnist")
    String name;

    @Option(names = "--classifier", description = "Classifier the LaVAN patches of the bank attack (default "
            + "${DEFAULT-VALUE}).", defaultValue = "classifier-resnet")
    String classifier;

    @Option(names = "--bank-images", description = "Training images LaVAN patches are made on (0 = none; default "
            + "${DEFAULT-VALUE}).", defaultValue = "256")
    int bankImages;

    @Option(names = "--bank-steps", description = "LaVAN steps per patch (default ${DEFAULT-VALUE}).",
            defaultValue = "100")
    int bankSteps;

    @Option(names = "--holdout", description = "Last data/validation images left out of training, for choosing the "
            + "defence's settings (default ${DEFAULT-VALUE}).", defaultValue = "1000")
    int holdout;

    @Option(names = "--steps", description = "Optimiser steps (default ${DEFAULT-VALUE}).", defaultValue = "3000")
    int steps;

    @Option(names = "--batch-size", description = "Images per step (default ${DEFAULT-VALUE}).", defaultValue = "32")
    int batchSize;

    @Option(names = "--lr", description = "Peak learning rate (default ${DEFAULT-VALUE}).", defaultValue = "1e-3")
    float lr;

    @Option(names = "--seed", description = "Seed (default ${DEFAULT-VALUE}).", defaultValue = "13")
    long seed;

    @Option(names = "--checkpoint-dir",
            description = "Checkpoint directory (default: $LUSTRA_CHECKPOINTS or ~/.cache/lustra/checkpoints, /NAME).")
    Path checkpointDir;

    @Option(names = "--out", description = "Model directory (default: models/NAME).")
    Path out;

    @Override
    public Integer call() {
        ImageSet validation = Subsets.load("validation");
        if (holdout < 0 || holdout >= validation.size() || bankImages < 0 || bankImages > validation.size() - holdout) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--holdout must be in 0.."
                    + (validation.size() - 1) + " and --bank-images in 0.." + (validation.size() - holdout));
        }
        ImageSet train = validation.subset(IntStream.range(0, validation.size() - holdout).toArray());
        SacTraining.Options opt = new SacTraining.Options(steps, batchSize, lr, Math.min(200, steps / 10), 0.01f,
                seed, 300, 50);
        PatchBank bank = PatchBank.empty(train.channels());
        String bankText = "none";
        if (bankImages > 0) {
            try (NetClassifier c = ModelStore.loadClassifier(classifier)) {
                System.out.printf(Locale.ROOT, "Making %d LaVAN patches against %s (%d steps each)%n", bankImages,
                        c.name(), bankSteps);
                List<Double> fractions = List.of(0.01, 0.03, 0.05, 0.1);
                bank = PatchBank.lavan(c, train, 0, bankImages, fractions, bankSteps, seed);
                bankText = String.format(Locale.ROOT, "LaVAN against %s on training images 0..%d, %d steps of 0.05, "
                        + "area shares %s cycled by group", c.name(), bankImages - 1, bankSteps, fractions);
            }
        }
        TrainingPatches patches = new TrainingPatches(train, bank, 0.2, 0.005, 0.15);
        Path ckpt = checkpointDir != null ? checkpointDir : LustraHome.checkpoints().resolve(name);
        Path modelDir = out != null ? out : LustraHome.models().resolve(name);
        System.out.printf(Locale.ROOT, "Training %s on %d data/validation images for %d steps of %d; checkpoints in "
                + "%s%n", name, train.size(), steps, batchSize, ckpt);
        PatchSegmenter fresh = PatchSegmenter.create(PatchSegmenter.Config.small(train.channels(), train.height()),
                NDManager.newBaseManager(), seed);
        SacTraining.Result r = SacTraining.train(fresh, patches, opt, ckpt, System.out::println);
        try {
            String command = String.format(Locale.ROOT, "lustra train sac --name %s --classifier %s --bank-images %d "
                    + "--bank-steps %d --holdout %d --steps %d --batch-size %d --lr %s --seed %d", name, classifier,
                    bankImages, bankSteps, holdout, steps, batchSize, lr, seed);
            ModelCard card = SacTraining.card(name, r, opt, patches, bankText,
                    "fashion-mnist: data/validation (Fashion-MNIST training images held out from classifier training)",
                    "trained on data/validation images 0.." + (train.size() - 1) + "; images " + train.size() + ".."
                            + (validation.size() - 1) + " held out for choosing the defence's settings", command);
            r.segmenter().save(card, modelDir);
            String spec = out != null ? "sac:" + modelDir : name.equals(PatchSegmenter.DEFAULT_MODEL) ? "sac"
                    : "sac:" + name;
            System.out.println("Wrote " + modelDir + "; use it with --defense " + spec);
        } finally {
            r.segmenter().close();
        }
        return 0;
    }
}
