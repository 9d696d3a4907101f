package org.lustra.cli;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lustra.defense.learned.MaskTraining;
import org.lustra.defense.sac.PatchSegmenter;
import org.lustra.defense.sac.SacTraining;
import org.lustra.model.ModelCard;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code lustra train sac}: the SAC-like patch segmenter, trained on the first images of data/validation with pasted
 * patches; the last {@code --holdout} validation images are never seen, so the defence's threshold and completion
 * tolerance can be chosen on them afterwards.
 */
@Command(name = "sac", mixinStandardHelpOptions = true,
        description = {"Train the SAC-like patch segmenter (a small U-Net) on data/validation images with one pasted "
                + "patch each (uniform or blocky noise, natural crops, LaVAN patches made against --classifier on the "
                + "same training images; squares, rectangles, discs of 0.5-15 %% of the image) or none.",
            "It checkpoints every few minutes; rerun the same command to resume. On completion it writes models/NAME "
                + "(weights and model card); use it with --defense sac[:NAME]."})
final class TrainSacCommand implements Callable<Integer> {
    @Option(names = "--name", description = "Model name (default ${DEFAULT-VALUE}).", defaultValue = "sac-fmnist")
    String name;

    @Mixin
    PatchTrainingOptions common;

    @Override
    public Integer call() {
        PatchTrainingOptions.Data d = common.data(this);
        MaskTraining.Options opt = common.training();
        Path ckpt = common.checkpoints(name);
        Path modelDir = common.modelDir(name);
        System.out.printf(Locale.ROOT, "Training %s on %d data/validation images for %d steps of %d; checkpoints in "
                + "%s%n", name, d.train().size(), opt.steps(), opt.batchSize(), ckpt);
        PatchSegmenter fresh = PatchSegmenter.create(PatchSegmenter.Config.small(d.train().channels(),
                d.train().height()), NDManager.newBaseManager(), opt.seed());
        try {
            MaskTraining.Result r = SacTraining.train(fresh, d.patches(), opt, ckpt, System.out::println);
            String command = "lustra train sac --name " + name + " " + common.commandTail();
            ModelCard card = SacTraining.card(name, r, opt, d.patches(), d.bankText(), PatchTrainingOptions.DATA,
                    d.split(), command);
            fresh.save(card, modelDir);
            common.reportWritten("sac", name, PatchSegmenter.DEFAULT_MODEL, modelDir);
        } finally {
            fresh.close();
        }
        return 0;
    }
}
