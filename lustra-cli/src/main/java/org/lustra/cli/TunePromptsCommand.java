package org.lustra.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lustra.attack.AdvPatch;
import org.lustra.attack.AttackModel;
import org.lustra.attack.Patch;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.diffender.Diffender;
import org.lustra.defense.diffender.PromptTuning;
import org.lustra.defense.diffender.TunedPrompts;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.eval.UniversalPatches;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.LustraHome;
import org.lustra.util.Versions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "tune-prompts", mixinStandardHelpOptions = true,
        description = {"DIFFender's few-shot prompt tuning: learn prompt_L and prompt_R (16 vectors each) on "
                + "the 8 images of data/fewshot8 carrying a universal AdvP patch (trained on "
                + "data/validation), choose the epoch on other validation images, and write "
                + "models/prompts-diffender (used by diffender:tuned)."})
final class TunePromptsCommand implements Callable<Integer> {
    @Option(names = "--epochs", defaultValue = "50", description = "Epochs (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--lr", defaultValue = "0.002", description = "SGD learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--restore-steps", defaultValue = "10",
            description = "DDIM steps of the restoration while tuning (default ${DEFAULT-VALUE}).")
    int restoreSteps;

    @Option(names = "--base", defaultValue = "diffender",
            description = "DIFFender settings the prompts are tuned for (default ${DEFAULT-VALUE}).")
    String base;

    @Option(names = "--patch-fraction", defaultValue = "0.05",
            description = "AdvP patch size as a fraction of the image (default ${DEFAULT-VALUE}).")
    double fraction;

    @Option(names = "--val-images", defaultValue = "64",
            description = "Validation images (patched, from data/validation) for choosing the epoch (default "
                    + "${DEFAULT-VALUE}).")
    int valImages;

    @Option(names = "--init-l", description = "Words to start prompt_L from (default: random).")
    String initL;

    @Option(names = "--init-r", description = "Words to start prompt_R from (default: random).")
    String initR;

    @Option(names = "--no-mask-loss", description = "Ablation: drop the BCE mask loss.")
    boolean noMask;

    @Option(names = "--no-l1", description = "Ablation: drop the L1 restoration loss.")
    boolean noL1;

    @Option(names = "--no-feature-loss", description = "Ablation: drop the classifier-feature loss d.")
    boolean noFeature;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", description = "Output directory (default: models/prompts-diffender).")
    Path out;

    @Override
    public Integer call() {
        DefenseSpec.DiffenderSpec baseSpec = DefenseSpec.parse(base).asDiffender().orElseThrow(
                () -> new IllegalArgumentException("--base must be a diffender spec, got " + base));
        PromptTuning.Options opt = PromptTuning.Options.defaults(seed).withEpochs(epochs).withLearningRate(lr)
                .withRestoreSteps(restoreSteps).withLosses(!noMask, !noL1, !noFeature).withInit(initL, initR);
        Path dir = out != null ? out : LustraHome.models().resolve(TunedPrompts.NAME);
        ImageSet validation = Subsets.load("validation");
        ImageSet few = Subsets.load("fewshot8");
        if (valImages < 1 || 4000 + valImages > validation.size()) {
            throw new IllegalArgumentException("--val-images must be between 1 and " + (validation.size() - 4000));
        }
        long t0 = System.nanoTime();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                DiffusionModel model = DiffusionModel.load("diffusion-unified");
                NDManager m = NDManager.newBaseManager()) {
            Diffender.Options baseOptions = baseSpec.options(model);
            Shape image = new Shape(c.channels(), c.size(), c.size());
            AttackModel am = new AttackModel(c::logits, m, image, 1);
            // the universal patch depends only on (classifier, fraction, seed): cached beside the checkpoints
            AdvPatch.Trained patch = UniversalPatches.bestOfClasses(UniversalPatches.promptTuningCache(c.name(),
                    fraction, seed), am, validation, 2000, new AdvPatch.Options(fraction, 100, 32, 0.05, seed));
            System.err.printf(Locale.ROOT, "AdvP patch: target class %d, fools %.1f %% of held-out training images%n",
                    patch.target(), 100 * patch.heldOutFoolRate());
            PromptTuning.PatchedSet train = patched(am, patch.patch(), fraction, few, 0, few.size(), m, seed + 1);
            PromptTuning.PatchedSet val = patched(am, patch.patch(), fraction, validation, 4000, 4000 + valImages, m,
                    seed + 2);
            PromptTuning.Result r = new PromptTuning(model, c, baseOptions, opt).tune(train, val, System.err::println);
            PromptTuning.Epoch best = r.history().get(r.bestEpoch() - 1);
            double wall = (System.nanoTime() - t0) / 1e9;
            Map<String, Object> training = new LinkedHashMap<>();
            training.put("options", opt);
            training.put("base", base + " = " + new Diffender(model, baseOptions).name());
            training.put("advp", Map.of("fraction", fraction, "target", patch.target(), "heldOutFoolRate",
                    patch.heldOutFoolRate(), "trainedOn", "data/validation images 0..1999, 100 steps of batch 32"));
            training.put("validation", "data/validation images 4000.." + (4000 + valImages - 1)
                    + " with the AdvP patch at seeded random places; the kept epoch has the best mask IoU "
                    + "(ties: restored accuracy), checked every " + opt.validateEvery() + " epochs");
            training.put("bestEpoch", r.bestEpoch());
            training.put("history", r.history());
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("validation_restored_accuracy", best.validationAccuracy());
            metrics.put("validation_mask_iou", best.validationIou());
            Map<String, String> how = new LinkedHashMap<>();
            how.put("validation_restored_accuracy", "classifier-resnet on the " + valImages + " patched validation "
                    + "images after DIFFender with these prompts (restoration " + baseOptions.restoreSteps()
                    + " DDIM steps), epoch " + r.bestEpoch());
            how.put("validation_mask_iou", "mean IoU of the refined mask against the true patch mask, same images");
            long params = 2L * opt.tokens() * model.encoder().dim();
            ModelCard card = new ModelCard(TunedPrompts.NAME, "DIFFender prompts prompt_L (localisation) and "
                    + "prompt_R (restoration) as token-embedding sequences for diffusion-unified", null, params, null,
                    "data/fewshot8 (8 Fashion-MNIST training images) with a universal AdvP patch",
                    "tuned on fewshot8; epoch chosen on data/validation 4000.." + (4000 + valImages - 1),
                    "lustra tune-prompts --epochs " + epochs + " --lr " + lr + " --restore-steps " + restoreSteps
                            + " --base " + base + " --seed " + seed, seed, training, wall, metrics, how,
                    Versions.describe(), null, null, null);
            TunedPrompts.save(dir, r.promptL(), r.promptR(), model.config().contextLength(), model.encoder().dim(),
                    card);
            System.out.printf(Locale.ROOT, "Wrote %s: best epoch %d, validation restored accuracy %.3f, mask IoU "
                    + "%.3f (%.0f s)%n", dir, r.bestEpoch(), best.validationAccuracy(), best.validationIou(), wall);
        }
        return 0;
    }

    private static PromptTuning.PatchedSet patched(AttackModel am, float[] patch, double fraction, ImageSet set,
            int from, int to, NDManager m, long seed) {
        float[] clean = set.batch(m, from, to).toFloatArray();
        int[] labels = java.util.Arrays.copyOfRange(set.labels(), from, to);
        Patch.Result r = AdvPatch.apply(am, patch, clean, labels, fraction, seed);
        return new PromptTuning.PatchedSet(r.adversarial(), clean, r.masks(), labels);
    }
}
