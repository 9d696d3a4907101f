package org.lustra.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.learned.MaskTraining;
import org.lustra.defense.sac.PatchBank;
import org.lustra.defense.sac.TrainingPatches;
import org.lustra.model.NetClassifier;
import org.lustra.model.ModelStore;
import org.lustra.util.LustraHome;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options and data that {@code lustra train sac} and {@code lustra train jedi} share: the first images of
 * data/validation with pasted patches (noise, natural crops, LaVAN patches made against a classifier on the same
 * training images), the last {@code --holdout} never seen (they are what {@code lustra calibrate} chooses thresholds
 * on), and the optimiser settings.
 */
final class PatchTrainingOptions {
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

    /** The training data and how its bank was made. */
    record Data(ImageSet validation, ImageSet train, TrainingPatches patches, String bankText) {
        String split() {
            return "trained on data/validation images 0.." + (train.size() - 1) + "; images " + train.size() + ".."
                    + (validation.size() - 1) + " held out for choosing the defence's settings";
        }
    }

    static final String DATA = "fashion-mnist: data/validation (Fashion-MNIST training images held out from classifier "
            + "training)";

    Data data(Object command) {
        ImageSet validation = Subsets.load("validation");
        if (holdout < 0 || holdout >= validation.size() || bankImages < 0 || bankImages > validation.size() - holdout) {
            throw new CommandLine.ParameterException(new CommandLine(command), "--holdout must be in 0.."
                    + (validation.size() - 1) + " and --bank-images in 0.." + (validation.size() - holdout));
        }
        ImageSet train = validation.subset(IntStream.range(0, validation.size() - holdout).toArray());
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
        return new Data(validation, train, new TrainingPatches(train, bank, 0.2, 0.005, 0.15), bankText);
    }

    MaskTraining.Options training() {
        return new MaskTraining.Options(steps, batchSize, lr, Math.min(200, steps / 10), 0.01f, seed, 300, 50);
    }

    Path checkpoints(String name) {
        return checkpointDir != null ? checkpointDir : LustraHome.checkpoints().resolve(name);
    }

    Path modelDir(String name) {
        return out != null ? out : LustraHome.models().resolve(name);
    }

    /** Prints where the model went and the --defense spec that uses it ({@code kind} alone for the default model). */
    void reportWritten(String kind, String name, String defaultModel, Path modelDir) {
        String spec = out != null ? kind + ":" + modelDir : name.equals(defaultModel) ? kind : kind + ":" + name;
        System.out.println("Wrote " + modelDir + "; use it with --defense " + spec);
    }

    /** The command line that reproduces a run, after {@code lustra train KIND --name NAME}. */
    String commandTail() {
        return String.format(Locale.ROOT, "--classifier %s --bank-images %d --bank-steps %d --holdout %d --steps %d "
                + "--batch-size %d --lr %s --seed %d", classifier, bankImages, bankSteps, holdout, steps, batchSize, lr,
                seed);
    }
}
