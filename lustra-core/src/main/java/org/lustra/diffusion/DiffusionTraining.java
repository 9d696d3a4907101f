package org.lustra.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.lustra.data.ImageSet;
import org.lustra.nn.ConvolutionCheck;
import org.lustra.util.CheckpointDir;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.SafeTensors;

/**
 * Trains the unified diffusion model (SPEC §3): ε-prediction MSE at uniformly drawn timesteps; captions from
 * {@link Captions} (empty ~15 %); natural occluders with "with a patch" captions; even steps are full-mask (plain
 * denoising) batches, odd steps inpainting batches with random rectangles and blobs covering 2–40 %; AdamW with
 * warm-up then cosine; an exponential moving average of the weights, which is what ships. Every random draw of step
 * k comes from a generator seeded by (seed, k), so a run resumed from a checkpoint continues exactly.
 */
public final class DiffusionTraining {

    /** Hyper-parameters, validated on construction. */
    public record Options(int steps, int batchSize, float learningRate, int warmupSteps, float emaDecay,
            double occluderProbability, boolean flip, long seed, int checkpointSeconds, Captions.Grammar grammar,
            float textLrFactor) {
        public Options {
            if (steps < 1 || batchSize < 1 || !(learningRate > 0 && learningRate < 1) || warmupSteps < 0
                    || !(emaDecay >= 0 && emaDecay < 1) || !(occluderProbability >= 0 && occluderProbability <= 1)
                    || checkpointSeconds < 1 || grammar == null || !(textLrFactor > 0 && textLrFactor <= 100)) {
                throw new IllegalArgumentException("Invalid diffusion training options: steps=" + steps + " batch="
                        + batchSize + " lr=" + learningRate + " warmup=" + warmupSteps + " ema=" + emaDecay
                        + " occluders=" + occluderProbability + " checkpointSeconds=" + checkpointSeconds
                        + " grammar=" + grammar + " textLrFactor=" + textLrFactor + " (must be in (0, 100])");
            }
        }

        /** The v1 recipe's options (grammar V1, no text learning-rate factor) with the given run settings. */
        public static Options v1(int steps, int batchSize, float learningRate, long seed, int checkpointSeconds) {
            return new Options(steps, batchSize, learningRate, 500, 0.999f, 0.25, true, seed, checkpointSeconds,
                    Captions.Grammar.V1, 1f);
        }

        public Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("objective", "epsilon-prediction MSE, t uniform in [0, T)");
            m.put("optimizer", "AdamW (no weight decay)");
            m.put("steps", steps);
            m.put("batch_size", batchSize);
            m.put("learning_rate", learningRate);
            m.put("schedule", "linear warm-up " + warmupSteps + " steps, then cosine to 0");
            m.put("ema_decay", emaDecay);
            m.put("batches", "even steps full-mask (plain denoising), odd steps inpainting masks 2-40%");
            m.put("captions", grammar == Captions.Grammar.V1
                    ? "class templates, clean captions, 'with a patch' for occluded, empty 15%"
                    : "grammar v2: class templates, clean captions, occluder captions naming the kind (patch/piece,"
                            + " sticker/block, stain/spot) in 8 templates, empty 15%");
            m.put("prompt_token_lr_factor", textLrFactor);
            m.put("occluder_probability", occluderProbability);
            m.put("augmentation", flip ? "horizontal flip" : "none");
            m.put("seed", seed);
            m.put("random_streams", "step k draws from Seed.of(seed).child(\"diffusion-training\").child(k)");
            return m;
        }
    }

    /** What a run produced: the model (EMA weights loaded) and its measurements. */
    public record Result(DiffusionModel model, double wallSeconds, long steps, List<Map<String, Object>> history) {}

    record State(long step, double wallSeconds, String optionsKey, List<Map<String, Object>> history,
            long skippedSteps) {}

    private DiffusionTraining() {}

    public static Result train(DiffusionConfig config, ImageSet train, List<String> classNames, Options opt,
            Path checkpointDir, Consumer<String> log) {
        return train(config, train, classNames, opt, checkpointDir, log, Long.MAX_VALUE);
    }

    /** As above, stopping after {@code stopAfterStep} steps (with a checkpoint), as a killed run would. */
    static Result train(DiffusionConfig config, ImageSet train, List<String> classNames, Options opt,
            Path checkpointDir, Consumer<String> log, long stopAfterStep) {
        ConvolutionCheck.require(); // every weight gradient below the output passes through convolution backward
        if (train.channels() != config.channels() || train.height() != config.size()
                || train.width() != config.size()) {
            throw new LustraException("Training images are " + train.channels() + "x" + train.height() + "x"
                    + train.width() + " but the diffusion model expects " + config.channels() + "x" + config.size()
                    + "x" + config.size() + ".");
        }
        Captions captions = new Captions(classNames, opt.grammar());
        if (!captions.vocabulary().equals(config.vocabulary())) {
            throw new LustraException("The diffusion config's vocabulary is not the " + opt.grammar()
                    + " caption grammar's; build the config from new Captions(classes, " + opt.grammar() + ").");
        }
        String optionsKey = optionsKey(config, opt);
        CheckpointDir checkpoints = new CheckpointDir(checkpointDir);
        Path ckpt = checkpoints.latest();
        State saved = ckpt != null && Files.isRegularFile(ckpt.resolve("state.json"))
                ? resumable(Json.read(ckpt.resolve("state.json"), State.class), optionsKey, opt, checkpointDir)
                : null;
        TrainingRun trainer = new TrainingRun(config, train, captions, opt, checkpoints, log);
        if (saved != null) {
            trainer.resume(ckpt, saved);
        }
        return trainer.run(stopAfterStep);
    }

    /** The saved state, if a run with these options may continue from it; else one sentence on what to do. */
    private static State resumable(State saved, String optionsKey, Options opt, Path checkpointDir) {
        if (!sameRecipe(optionsKey, saved.optionsKey())) {
            throw new LustraException("Checkpoint in " + checkpointDir + " was made with different settings; "
                    + "delete it or pass another --checkpoint-dir.");
        }
        if (saved.step() >= opt.steps()) {
            throw new LustraException("Checkpoint in " + checkpointDir + " is at step " + saved.step()
                    + ", not before the requested --steps " + opt.steps() + "; ask for more steps.");
        }
        return saved;
    }

    /**
     * The EMA weights of the latest checkpoint in {@code checkpointDir} as a model, without training: a look at a run
     * in progress (its quality bars can be measured while it trains on). Reads only; a training writing to the same
     * folder is not disturbed (checkpoints are written whole, then renamed). The result's steps are the checkpoint's.
     */
    public static Result snapshot(DiffusionConfig config, List<String> classNames, Options opt, Path checkpointDir) {
        CheckpointDir checkpoints = new CheckpointDir(checkpointDir);
        Path ckpt = checkpoints.latest();
        if (ckpt == null || !Files.isRegularFile(ckpt.resolve("state.json"))) {
            throw new LustraException("No checkpoint in " + checkpointDir + " to take a snapshot of; start the "
                    + "training first or pass its --checkpoint-dir.");
        }
        State saved = Json.read(ckpt.resolve("state.json"), State.class);
        String optionsKey = optionsKey(config, opt);
        if (!sameRecipe(optionsKey, saved.optionsKey())) {
            throw new LustraException("Checkpoint in " + checkpointDir + " was made with different settings than "
                    + "these options; pass the training's own --grammar, --text-lr-factor, --lr, --batch-size and "
                    + "--seed.");
        }
        if (!new Captions(classNames, opt.grammar()).vocabulary().equals(config.vocabulary())) {
            throw new LustraException("The diffusion config's vocabulary is not the " + opt.grammar()
                    + " caption grammar's.");
        }
        NDManager manager = NDManager.newBaseManager();
        DiffusionModel model = DiffusionModel.create(config, manager, opt.seed());
        List<NDArray> weights = new ArrayList<>();
        for (Pair<String, Parameter> p : model.net().getParameters()) {
            weights.add(p.getValue().getArray());
        }
        try (InputStream e = Files.newInputStream(ckpt.resolve("ema.safetensors"))) {
            restoreArrays(weights, e, manager);
        } catch (IOException ex) {
            manager.close();
            throw new UncheckedIOException(ex);
        }
        return new Result(model, saved.wallSeconds(), saved.step(), saved.history());
    }

    /** What a checkpoint must have been made with to be resumed or read: the config and every option. */
    static String optionsKey(DiffusionConfig config, Options opt) {
        return Json.GSON.toJson(config) + " | " + opt;
    }

    private static final Pattern STEPS = java.util.regex.Pattern.compile("Options\\[steps=(\\d+)");

    /** Two keys name the same recipe when they differ at most in the run length (a resume may change it). */
    private static boolean sameRecipe(String key, String savedKey) {
        return withoutSteps(key).equals(withoutSteps(savedKey));
    }

    private static String withoutSteps(String key) {
        return STEPS.matcher(key).replaceFirst("Options[steps=*");
    }

    static long stepsOf(String key) {
        Matcher mt = STEPS.matcher(key);
        return mt.find() ? Long.parseLong(mt.group(1)) : -1;
    }

    static float learningRate(Options opt, long step) {
        if (step < opt.warmupSteps()) {
            return opt.learningRate() * (step + 1) / opt.warmupSteps();
        }
        double p = (double) (step - opt.warmupSteps()) / Math.max(1, opt.steps() - opt.warmupSteps());
        return (float) (opt.learningRate() * 0.5 * (1 + Math.cos(Math.PI * p)));
    }



    static void restoreArrays(List<NDArray> arrays, InputStream in, NDManager scratch) {
        try (NDManager s = scratch.newSubManager()) {
            Map<String, NDArray> byName = SafeTensors.decode(in, s);
            for (int i = 0; i < arrays.size(); i++) {
                byName.get("ema/" + i).copyTo(arrays.get(i));
            }
        }
    }
}
