package org.lustra.defense.sac;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.nn.AdamW;
import org.lustra.nn.ConvolutionCheck;
import org.lustra.util.CheckpointDir;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.Progress;
import org.lustra.util.Seed;
import org.lustra.util.Versions;

/**
 * Trains SAC's {@link PatchSegmenter} (Liu et al., 2022, §3.2: pixel-wise binary cross-entropy between the predicted
 * and the true patch mask) on {@link TrainingPatches}. SAC's second stage, self-adversarial training against an
 * attacker that targets the segmenter, is not done here (left open). AdamW with linear warm-up then cosine decay;
 * step k draws its batch from {@code Seed.of(seed).child("sac-training").child(k)}, and checkpoints hold weights,
 * optimiser moments and position, so a resumed run ends with the bytes of an uninterrupted one. A step whose loss or
 * gradients are not finite is skipped and counted; twenty in a row stop the run.
 */
public final class SacTraining {
    public static final String ROLE = "SAC-like patch segmenter: per-pixel logits of pasted-patch membership";

    /** Hyper-parameters; validated. */
    public record Options(int steps, int batchSize, float learningRate, int warmupSteps, float weightDecay, long seed,
            int checkpointSeconds, int historyEvery) {
        public Options {
            if (steps < 1 || batchSize < 1 || !(learningRate > 0 && learningRate < 1) || warmupSteps < 0
                    || !(weightDecay >= 0) || checkpointSeconds < 1 || historyEvery < 1) {
                throw new IllegalArgumentException("Invalid segmenter training options: steps=" + steps + " batch="
                        + batchSize + " lr=" + learningRate + " warmup=" + warmupSteps + " weightDecay=" + weightDecay
                        + " checkpointSeconds=" + checkpointSeconds + " historyEvery=" + historyEvery
                        + " (counts >= 1, lr in (0, 1), warm-up and decay >= 0)");
            }
        }

        public Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("loss", "mean binary cross-entropy of per-pixel logits against the pasted-patch mask");
            m.put("optimizer", "AdamW, weight decay " + weightDecay + " on rank >= 2 tensors");
            m.put("steps", steps);
            m.put("batch_size", batchSize);
            m.put("learning_rate", learningRate);
            m.put("schedule", "linear warm-up " + warmupSteps + " steps, then cosine to 0");
            m.put("seed", seed);
            m.put("random_streams", "step k draws images, patches and places from Seed.of(seed).child(\"sac-training\")"
                    + ".child(k)");
            return m;
        }
    }

    /** The trained segmenter (owned by the caller from here) and what the run measured. */
    public record Result(PatchSegmenter segmenter, double wallSeconds, long steps, long skippedSteps,
            List<Map<String, Object>> history) {}

    record State(long step, double wallSeconds, String optionsKey, List<Map<String, Object>> history,
            long skippedSteps) {}

    private SacTraining() {}

    /** Trains {@code segmenter} (freshly initialised by the caller) in place; it is returned in the result. */
    public static Result train(PatchSegmenter segmenter, TrainingPatches data, Options opt, Path checkpointDir,
            Consumer<String> log) {
        return train(segmenter, data, opt, checkpointDir, log, Long.MAX_VALUE);
    }

    /** As above, stopping after {@code stopAfterStep} steps with a checkpoint, as a killed run would. */
    static Result train(PatchSegmenter segmenter, TrainingPatches data, Options opt, Path checkpointDir,
            Consumer<String> log, long stopAfterStep) {
        ConvolutionCheck.require(); // weight gradients pass convolution backward
        String key = settingsKey(segmenter.config(), data, opt);
        CheckpointDir checkpoints = new CheckpointDir(checkpointDir);
        try (NDManager manager = NDManager.newBaseManager()) {
            AdamW adam = new AdamW(segmenter.block(), manager, opt.weightDecay());
            State state = resume(segmenter, adam, checkpoints, key, manager, log);
            List<Map<String, Object>> history = new ArrayList<>(state.history());
            long skipped = state.skippedSteps();
            int consecutive = 0;
            double windowLoss = 0;
            int windowCount = 0;
            Progress progress = new Progress("train sac", opt.steps(), "steps");
            progress.startAt(state.step());
            long start = System.nanoTime();
            long lastCheckpoint = start;
            for (long step = state.step(); step < opt.steps(); step++) {
                float loss = step(segmenter, adam, data, opt, step, manager);
                double wall = state.wallSeconds() + (System.nanoTime() - start) / 1e9;
                if (Float.isFinite(loss)) {
                    consecutive = 0;
                    windowLoss += loss;
                    windowCount++;
                    progress.update(step + 1, String.format(Locale.ROOT, "bce %.4f  lr %.2e", loss,
                            learningRate(opt, step)));
                } else {
                    skipped++;
                    log.accept("step " + step + ": non-finite loss or gradient, step skipped (" + skipped + " so far)");
                    if (++consecutive >= 20) {
                        throw new LustraException("Training of the SAC segmenter diverged: 20 consecutive non-finite "
                                + "steps at step " + step + "; lower --lr and resume from the last checkpoint.");
                    }
                }
                boolean last = step + 1 == opt.steps();
                boolean stop = step + 1 >= stopAfterStep;
                if ((step + 1) % opt.historyEvery() == 0 || last) {
                    history.add(record(step + 1, windowLoss / Math.max(1, windowCount), wall, skipped));
                    windowLoss = 0;
                    windowCount = 0;
                }
                if (last || stop || (System.nanoTime() - lastCheckpoint) / 1e9 >= opt.checkpointSeconds()) {
                    checkpoint(checkpoints, segmenter, adam, manager, new State(step + 1, wall, key, history, skipped));
                    lastCheckpoint = System.nanoTime();
                }
                if (stop && !last) {
                    return new Result(segmenter, wall, step + 1, skipped, history);
                }
            }
            progress.finish(opt.steps(), "done");
            return new Result(segmenter, state.wallSeconds() + (System.nanoTime() - start) / 1e9, opt.steps(),
                    skipped, history);
        }
    }

    /** What a checkpoint must have been made with to be resumed; refuses images the segmenter does not take. */
    private static String settingsKey(PatchSegmenter.Config cfg, TrainingPatches data, Options opt) {
        if (data.images().channels() != cfg.net().channels() || data.images().height() != cfg.size()
                || data.images().width() != cfg.size()) {
            throw new LustraException("Training images are " + data.images().channels() + "x" + data.images().height()
                    + "x" + data.images().width() + " but the segmenter expects " + cfg.net().channels() + "x"
                    + cfg.size() + "x" + cfg.size() + ".");
        }
        return Json.GSON.toJson(cfg.asCardFields()) + " | " + opt + " | images " + data.images().size() + ", clean "
                + data.cleanShare() + ", fractions " + data.minFraction() + ".." + data.maxFraction() + ", bank "
                + data.bank().fingerprint();
    }

    /** The saved state (weights and moments loaded) or a fresh one; refuses a checkpoint of other settings. */
    private static State resume(PatchSegmenter segmenter, AdamW adam, CheckpointDir checkpoints, String key,
            NDManager manager, Consumer<String> log) {
        Path ckpt = checkpoints.latest();
        if (ckpt == null || !Files.isRegularFile(ckpt.resolve("state.json"))) {
            return new State(0, 0, key, List.of(), 0);
        }
        State saved = Json.read(ckpt.resolve("state.json"), State.class);
        if (!key.equals(saved.optionsKey())) {
            throw new LustraException("Checkpoint in " + checkpoints.root() + " was made with different settings ("
                    + saved.optionsKey() + "); delete it or pass another --checkpoint-dir.");
        }
        try (InputStream w = Files.newInputStream(ckpt.resolve("weights.safetensors"));
                InputStream o = Files.newInputStream(ckpt.resolve("optimizer.safetensors"))) {
            ModelStore.decodeInto(segmenter.block(), w, manager, ckpt.toString());
            adam.restoreState(o, manager);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        log.accept(String.format(Locale.ROOT, "Resuming from %s at step %d (%.0f s already spent)", ckpt,
                saved.step(), saved.wallSeconds()));
        return saved;
    }

    /** One optimiser step; the batch's loss, or NaN when the step was skipped as non-finite. */
    private static float step(PatchSegmenter segmenter, AdamW adam, TrainingPatches data, Options opt, long step,
            NDManager manager) {
        SplittableRandom rng = Seed.of(opt.seed()).child("sac-training").child(step).random();
        TrainingPatches.Batch b = data.draw(opt.batchSize(), rng);
        int n = opt.batchSize();
        int size = segmenter.config().size();
        try (NDManager s = manager.newSubManager()) {
            NDArray x = s.create(b.images(), new Shape(n, data.images().channels(), size, size));
            NDArray y = s.create(b.masks(), new Shape(n, 1, size, size));
            float value;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = bce(segmenter.logits(new ParameterStore(s, false), x, true), y);
                gc.backward(loss);
                value = loss.getFloat();
            }
            if (!Float.isFinite(value) || !Float.isFinite(adam.gradientL1(s))) {
                adam.zeroGradients(s);
                return Float.NaN;
            }
            adam.step(s, learningRate(opt, step));
            return value;
        }
    }

    /**
     * Mean binary cross-entropy of logits z against targets y, in the overflow-free form max(z, 0) − z·y +
     * log(1 + e^−|z|); owned by z's manager.
     */
    static NDArray bce(NDArray z, NDArray y) {
        return Activation.relu(z).sub(z.mul(y)).add(z.abs().neg().exp().add(1f).log()).mean();
    }

    private static Map<String, Object> record(long step, double loss, double wall, long skipped) {
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("step", step);
        rec.put("bce", loss);
        rec.put("wall_seconds", wall);
        rec.put("skipped_steps_total", skipped);
        return rec;
    }

    private static void checkpoint(CheckpointDir checkpoints, PatchSegmenter segmenter, AdamW adam,
            NDManager manager, State state) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("weights.safetensors", ModelStore.encode(segmenter.block()));
        files.put("optimizer.safetensors", adam.encodeState(manager));
        files.put("state.json", Json.GSON.toJson(state).getBytes(StandardCharsets.UTF_8));
        checkpoints.write(files);
    }

    static float learningRate(Options opt, long step) {
        if (step < opt.warmupSteps()) {
            return opt.learningRate() * (step + 1) / opt.warmupSteps();
        }
        double p = (double) (step - opt.warmupSteps()) / Math.max(1, opt.steps() - opt.warmupSteps());
        return (float) (opt.learningRate() * 0.5 * (1 + Math.cos(Math.PI * p)));
    }

    /**
     * The model card of a finished run: options, patch synthesis, run length, history and wall time; {@code data} and
     * {@code split} say which images trained it, {@code bank} how the adversarial patches were made.
     */
    public static ModelCard card(String name, Result r, Options opt, TrainingPatches patches, String bank,
            String data, String split, String command) {
        Map<String, Object> training = new LinkedHashMap<>(opt.describe());
        training.put("patches", String.format(Locale.ROOT, "one pasted patch per image (%.0f %% left clean): uniform "
                + "noise, 2x2 blocky noise, natural crops of other training images%s; square, rectangle (aspect 1:2..2:1)"
                + " or disc; area %.1f-%.1f %% of the image; uniform place", patches.cleanShare() * 100,
                patches.bank().size() > 0 ? " or adversarial patches (" + patches.bank().size() + ")" : "",
                patches.minFraction() * 100, patches.maxFraction() * 100));
        training.put("adversarial_patches", bank);
        training.put("adversarial_patch_bank_sha256", patches.bank().fingerprint());
        training.put("steps_done", r.steps());
        training.put("skipped_steps", r.skippedSteps());
        training.put("engine_threads", System.getProperty("ai.djl.pytorch.num_threads", "default"));
        training.put("history", r.history());
        return new ModelCard(name, ROLE, null, 0, null, data, split, command, opt.seed(), training,
                Math.round(r.wallSeconds() * 10) / 10.0, null, null, Versions.describe(), null, null, null);
    }
}
