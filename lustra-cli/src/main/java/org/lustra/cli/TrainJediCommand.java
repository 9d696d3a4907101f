package org.lustra.cli;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lustra.defense.jedi.JediAutoencoder;
import org.lustra.defense.jedi.JediTraining;
import org.lustra.defense.learned.MaskTraining;
import org.lustra.model.ModelCard;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code lustra train jedi}: Jedi's mask autoencoder, trained on (high-entropy kernel map, pasted mask) pairs made
 * from the first images of data/validation with the SAC segmenter's patch synthesis; the last {@code --holdout}
 * validation images are never seen, so Jedi's thresholds can be chosen on them afterwards.
 */
@Command(name = "jedi", mixinStandardHelpOptions = true,
        description = {"Train Jedi's mask autoencoder on the high-entropy kernel maps of data/validation images with one "
                + "pasted patch each (uniform or blocky noise, natural crops, LaVAN patches made against --classifier "
                + "on the same training images; squares, rectangles, discs of 0.5-15 %% of the image) or none; the "
                + "target is the pasted mask.",
            "It checkpoints every few minutes; rerun the same command to resume. On completion it writes models/NAME "
                + "(weights and model card); --defense jedi then uses it (jedi:morph keeps the morphology variant)."})
final class TrainJediCommand implements Callable<Integer> {
    @Option(names = "--name", description = "Model name (default ${DEFAULT-VALUE}).",
            defaultValue = JediAutoencoder.DEFAULT_MODEL)
    String name;

    @Option(names = "--theta", description = "Kernel threshold of the input maps, a share of the most a window's entropy "
            + "can reach (default ${DEFAULT-VALUE}).", defaultValue = "0.7")
    double theta;

    @Mixin
    PatchTrainingOptions common;

    @Override
    public Integer call() {
        PatchTrainingOptions.Data d = common.data(this);
        MaskTraining.Options opt = common.training();
        JediAutoencoder.Config small = JediAutoencoder.Config.small(d.train().height());
        JediAutoencoder.Config cfg = new JediAutoencoder.Config(small.net(), small.size(), small.radius(),
                small.bins(), theta);
        Path ckpt = common.checkpoints(name);
        Path modelDir = common.modelDir(name);
        System.out.printf(Locale.ROOT, "Training %s on the kernel maps of %d data/validation images for %d steps of %d;"
                + " checkpoints in %s%n", name, d.train().size(), opt.steps(), opt.batchSize(), ckpt);
        JediAutoencoder fresh = JediAutoencoder.create(cfg, NDManager.newBaseManager(), opt.seed());
        try {
            MaskTraining.Result r = JediTraining.train(fresh, d.patches(), opt, ckpt, System.out::println);
            String command = String.format(Locale.ROOT, "lustra train jedi --name %s --theta %s %s", name, theta,
                    common.commandTail());
            ModelCard card = JediTraining.card(name, r, opt, d.patches(), d.bankText(), PatchTrainingOptions.DATA,
                    d.split(), command);
            fresh.save(card, modelDir);
            common.reportWritten("jedi", name, JediAutoencoder.DEFAULT_MODEL, modelDir);
        } finally {
            fresh.close();
        }
        return 0;
    }
}
