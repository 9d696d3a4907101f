package org.lustra.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.lustra.attack.AdvPatch;
import org.lustra.attack.AttackModel;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.DiffenderSpec;
import org.lustra.defense.diffender.Diffender;
import org.lustra.defense.diffender.Prompt;
import org.lustra.defense.diffender.PromptTuning;
import org.lustra.defense.diffender.TunedPrompts;
import org.lustra.defense.diffender.TuningOptions;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.eval.UniversalPatches;
import org.lustra.eval.masks.PatchedImages;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;
import org.lustra.util.Versions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "tune-prompts", mixinStandardHelpOptions = true,
        description = {"DIFFender's few-shot prompt tuning: learn prompt_L and prompt_R (16 vectors each, starting "
                + "from the base variant's words unless --init random) on the 8 images of data/fewshot8, each "
                + "patched per image by every --train-kinds attack (LaVAN; AdvP's universal patch, trained on "
                + "data/validation 0..1999, at a random place) with its true mask; validate at epoch 0 and every "
                + "--validate-every epochs on data/validation 4000.. (patched the same way, fixed noise); keep the "
                + "epoch with the best raw-mask IoU and write models/prompts-diffender (used by diffender:tuned)."})
final class TunePromptsCommand implements Callable<Integer> {
    @Option(names = "--epochs", defaultValue = "50", description = "Epochs (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--lr", defaultValue = "0.002", description = "SGD learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--restore-steps", defaultValue = "10",
            description = "DDIM steps of the restoration while tuning (default ${DEFAULT-VALUE}).")
    int restoreSteps;

    @Option(names = "--base", defaultValue = "diffender:mp",
            description = "DIFFender settings the prompts are tuned for; their prompts' words are the start "
                    + "(default ${DEFAULT-VALUE}).")
    String base;

    @Option(names = "--abar", description = "Localisation noise level while tuning and validating (default: the "
            + "base's).")
    Double alphaBar;

    @Option(names = "--model", defaultValue = DiffusionModel.DEFAULT, description = "Diffusion model (default "
            + "${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--classifier", defaultValue = "classifier-resnet",
            description = "Classifier attacked and used by the feature loss (default ${DEFAULT-VALUE}).")
    String classifier;

    @Option(names = "--patch-fraction", defaultValue = "0.05",
            description = "Patch size as a fraction of the image (default ${DEFAULT-VALUE}).")
    double fraction;

    @Option(names = "--train-kinds", split = ",", defaultValue = "lavan,advp",
            description = "Patch kinds of the tuning and validation images (default ${DEFAULT-VALUE}).")
    List<String> kinds;

    @Option(names = "--attack-steps", defaultValue = "100", description = "LaVAN iterations (default "
            + "${DEFAULT-VALUE}).")
    int attackSteps;

    @Option(names = "--val-images", defaultValue = "128",
            description = "Validation images from data/validation 4000.., split evenly over the kinds (default "
                    + "${DEFAULT-VALUE}).")
    int valImages;

    @Option(names = "--validate-every", defaultValue = "5", description = "Validate every N epochs (default "
            + "${DEFAULT-VALUE}).")
    int validateEvery;

    @Option(names = "--init", defaultValue = "words",
            description = "words (the base's prompts, or --init-l/--init-r) or random (the ablation) (default "
                    + "${DEFAULT-VALUE}).")
    String init;

    @Option(names = "--init-l", description = "Words to start prompt_L from (default: the base's prompt_L).")
    String initL;

    @Option(names = "--init-r", description = "Words to start prompt_R from (default: the base's prompt_R).")
    String initR;

    @Option(names = "--mask-weight", defaultValue = "1", description = "Weight of the BCE mask loss (default "
            + "${DEFAULT-VALUE}).")
    double maskWeight;

    @Option(names = "--l1-weight", defaultValue = "1", description = "Weight of the L1 restoration loss (default "
            + "${DEFAULT-VALUE}).")
    double l1Weight;

    @Option(names = "--feature-weight", defaultValue = "1",
            description = "Weight of the classifier-feature loss d (default ${DEFAULT-VALUE}).")
    double featureWeight;

    @Option(names = "--mask-loss-only", description = "Only the mask loss: prompt_L alone learns, no restoration "
            + "runs (validation scores masks only).")
    boolean maskOnly;

    @Option(names = "--no-mask-loss", description = "Ablation: drop the BCE mask loss.")
    boolean noMask;

    @Option(names = "--no-l1", description = "Ablation: drop the L1 restoration loss.")
    boolean noL1;

    @Option(names = "--no-feature-loss", description = "Ablation: drop the classifier-feature loss d.")
    boolean noFeature;

    @Option(names = "--clip-grad", defaultValue = "per-term",
            description = "per-term (each weighted term's gradient clipped alone, then summed), total (the summed "
                    + "gradient) or none (default ${DEFAULT-VALUE}).")
    String clipGrad;

    @Option(names = "--max-grad-norm", defaultValue = "1", description = "Clipping bound (default ${DEFAULT-VALUE}).")
    double maxGradNorm;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", description = "Output directory (default: models/prompts-diffender).")
    Path out;

    @Spec
    CommandSpec commandSpec;

    @Override
    public Integer call() {
        DiffenderSpec baseSpec = DefenseSpec.parse(base).asDiffender().orElseThrow(
                () -> new LustraException("--base must be a diffender spec, got '" + base + "'."));
        TuningOptions opt = options(baseSpec);
        Path dir = out != null ? out : LustraHome.models().resolve(TunedPrompts.NAME);
        ImageSet validation = Subsets.load("validation");
        ImageSet few = Subsets.load("fewshot8");
        if (valImages < kinds.size() || 4000 + valImages > validation.size()) {
            throw new LustraException("--val-images must be between " + kinds.size() + " and "
                    + (validation.size() - 4000) + ", got " + valImages + ".");
        }
        List<PatchedImages.Kind> ks = kinds.stream().map(PatchedImages.Kind::parse).toList();
        long t0 = System.nanoTime();
        try (NetClassifier c = ModelStore.loadClassifier(classifier);
                DiffusionModel dm = DiffusionModel.load(model);
                NDManager m = NDManager.newBaseManager()) {
            Diffender.Options baseOptions = baseSpec.options(dm);
            if (alphaBar != null) {
                baseOptions = baseOptions.withLocalization(baseOptions.localization().withAlphaBar(alphaBar));
            }
            AttackModel am = new AttackModel(c::logits, m, new Shape(c.channels(), c.size(), c.size()), 1);
            AdvPatch.Trained[] advp = new AdvPatch.Trained[1];
            Supplier<float[]> patch = () -> {
                if (advp[0] == null) { // the universal patch depends only on (classifier, fraction, seed): cached
                    advp[0] = UniversalPatches.bestOfClasses(UniversalPatches.promptTuningCache(c.name(), fraction,
                            seed), am, validation, 2000, new AdvPatch.Options(fraction, 100, 32, 0.05, seed));
                }
                return advp[0].patch();
            };
            PromptTuning.PatchedSet train = patched(ks, am, patch, few, 0, few.size(), false, c, seed + 1);
            PromptTuning.PatchedSet val = patched(ks, am, patch, validation, 4000, 4000 + valImages, true, c,
                    seed + 2);
            System.err.printf(Locale.ROOT, "tuning on %d patched images (fewshot8 x %s), validating on %d%n",
                    train.size(), kinds, val.size());
            PromptTuning.Result r = new PromptTuning(dm, c, baseOptions, opt).tune(train, val, System.err::println);
            double wall = (System.nanoTime() - t0) / 1e9;
            ModelCard card = card(r, opt, baseOptions, dm, advp[0], wall);
            TunedPrompts.save(dir, r.promptL(), r.promptR(), dm.config().contextLength(), dm.encoder().dim(), card);
            PromptTuning.Epoch best = r.best();
            PromptTuning.Epoch start = r.start();
            System.out.printf(Locale.ROOT, "Wrote %s: kept epoch %d, validation raw-mask IoU %.3f (start %.3f), "
                    + "refined %.3f (start %.3f)%s; %s (%.0f s)%n", dir, r.bestEpoch(), best.validationIou(),
                    start.validationIou(), best.validationRefinedIou(), start.validationRefinedIou(),
                    best.validationAccuracy() == null ? "" : String.format(Locale.ROOT, ", restored accuracy %.3f "
                            + "(start %.3f)", best.validationAccuracy(), start.validationAccuracy()),
                    r.bestEpoch() == 0 ? "tuning did NOT improve on the starting prompts" : "tuning improved on the "
                            + "starting prompts", wall);
        }
        return 0;
    }

    private TuningOptions options(DiffenderSpec baseSpec) {
        TuningOptions.GradientClip clip = switch (clipGrad) {
            case "per-term" -> TuningOptions.GradientClip.PER_TERM;
            case "total" -> TuningOptions.GradientClip.TOTAL;
            case "none" -> TuningOptions.GradientClip.NONE;
            default -> throw new LustraException("--clip-grad must be per-term, total or none, got '" + clipGrad
                    + "'.");
        };
        String l;
        String r;
        switch (init) {
            case "words" -> {
                l = initL != null ? initL : words(baseSpec.options().promptL(), "prompt_L");
                r = initR != null ? initR : words(baseSpec.options().promptR(), "prompt_R");
            }
            case "random" -> {
                l = null;
                r = null;
            }
            default -> throw new LustraException("--init must be words or random, got '" + init + "'.");
        }
        TuningOptions opt = TuningOptions.builder(seed).epochs(epochs).learningRate(lr).restoreSteps(restoreSteps)
                .validateEvery(validateEvery).init(l, r)
                .weights(noMask ? 0 : maskWeight, noL1 ? 0 : l1Weight, noFeature ? 0 : featureWeight)
                .clip(clip, maxGradNorm).build();
        return maskOnly ? opt.maskLossOnly() : opt;
    }

    private static String words(Prompt p, String which) {
        if (p.isLearned()) {
            throw new LustraException("--base has a learned " + which + "; start from words with --init-l/--init-r "
                    + "or use --init random.");
        }
        return p.words();
    }

    /**
     * Every kind on every image of the range (tuning: 8 images are few), or with {@code split} the range divided
     * evenly over the kinds (validation: each image once).
     */
    private PromptTuning.PatchedSet patched(List<PatchedImages.Kind> ks, AttackModel am, Supplier<float[]> patch,
            ImageSet set, int from, int to, boolean split, NetClassifier c, long seed) {
        List<PromptTuning.PatchedSet> parts = new java.util.ArrayList<>();
        try (NDManager m = NDManager.newBaseManager()) {
            for (int k = 0; k < ks.size(); k++) {
                int a = split ? from + (to - from) * k / ks.size() : from;
                int b = split ? from + (to - from) * (k + 1) / ks.size() : to;
                float[] clean = set.batch(m, a, b).toFloatArray();
                int[] labels = Arrays.copyOfRange(set.labels(), a, b);
                parts.add(PatchedImages.makeSet(ks.get(k), am, patch, clean, labels, c.channels(), c.size(), fraction,
                        attackSteps, seed + k));
            }
        }
        return PatchedImages.concat(parts.toArray(new PromptTuning.PatchedSet[0]));
    }

    private ModelCard card(PromptTuning.Result r, TuningOptions opt, Diffender.Options baseOptions,
            DiffusionModel dm, AdvPatch.Trained advp, double wall) {
        PromptTuning.Epoch best = r.best();
        PromptTuning.Epoch start = r.start();
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("options", opt);
        training.put("init", opt.initL() == null ? "random (std " + opt.initStd() + ")" : "words: L \"" + opt.initL()
                + "\", R \"" + opt.initR() + "\" (epoch 0 = these prompts exactly)");
        training.put("base", base + (alphaBar != null ? " with abar " + alphaBar : "") + " = "
                + new Diffender(dm, baseOptions).name());
        training.put("diffusionModel", model);
        training.put("trainingData", "data/fewshot8 x " + kinds + " (" + r.history().size() + " epochs recorded), "
                + "per-image LaVAN (" + attackSteps + " steps) and/or the universal AdvP patch at seeded random places");
        if (advp != null) {
            training.put("advp", Map.of("fraction", fraction, "target", advp.target(), "heldOutFoolRate",
                    advp.heldOutFoolRate(), "trainedOn", "data/validation images 0..1999, 100 steps of batch 32"));
        }
        training.put("validation", "data/validation images 4000.." + (4000 + valImages - 1) + " split evenly over "
                + kinds + ", noise seed " + opt.validationSeed() + " (+ chunk index) at every validation; the kept "
                + "epoch has the best raw-mask IoU (ties: restored accuracy), checked at epoch 0 and every "
                + opt.validateEvery() + " epochs");
        training.put("bestEpoch", r.bestEpoch());
        training.put("improvedOverStart", r.bestEpoch() != 0);
        training.put("history", r.history());
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("validation_raw_mask_iou", best.validationIou());
        metrics.put("validation_refined_mask_iou", best.validationRefinedIou());
        metrics.put("validation_raw_mask_iou_start", start.validationIou());
        if (best.validationAccuracy() != null) {
            metrics.put("validation_restored_accuracy", best.validationAccuracy());
        }
        Map<String, String> how = new LinkedHashMap<>();
        how.put("validation_raw_mask_iou", "mean IoU of [Z > theta] against the true patch mask on the " + valImages
                + " patched validation images, epoch " + r.bestEpoch());
        how.put("validation_refined_mask_iou", "the same for the refined mask");
        how.put("validation_raw_mask_iou_start", "the same at epoch 0 (the starting prompts)");
        if (best.validationAccuracy() != null) {
            how.put("validation_restored_accuracy", classifier + " after DIFFender with these prompts (restoration "
                    + baseOptions.restoreSteps() + " DDIM steps)");
        }
        long params = 2L * opt.tokens() * dm.encoder().dim();
        return new ModelCard(TunedPrompts.NAME, "DIFFender prompts prompt_L (localisation) and prompt_R "
                + "(restoration) as token-embedding sequences for " + model, null, params, null,
                "data/fewshot8 (8 Fashion-MNIST training images) patched per image (" + kinds + ")",
                "tuned on fewshot8; epoch chosen on data/validation 4000.." + (4000 + valImages - 1),
                commandLine(), seed, training, wall, metrics,
                how, Versions.describe(), null, null, null);
    }

    /**
     * The command as it was given, every option the user set (the card must reproduce the run: a hand-picked subset
     * once left out --abar and --mask-loss-only), without --out (where this machine put it is not part of the model).
     */
    String commandLine() {
        if (commandSpec == null) {
            return cardCommand(List.of());
        }
        // this command's own options as given (originalArgs would also hold the parent's arguments and the
        // subcommand's name)
        List<String> args = new ArrayList<>();
        for (OptionSpec o : commandSpec.commandLine().getParseResult().matchedOptions()) {
            if (o.arity().max() == 0) {
                args.add(o.longestName());
            } else {
                for (String v : o.originalStringValues()) {
                    args.add(o.longestName());
                    args.add(v);
                }
            }
        }
        return cardCommand(args);
    }

    static String cardCommand(List<String> args) {
        StringBuilder b = new StringBuilder("lustra tune-prompts");
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--out")) {
                i++;
                continue;
            }
            if (!a.startsWith("--out=")) {
                b.append(' ').append(a);
            }
        }
        return b.toString();
    }
}
