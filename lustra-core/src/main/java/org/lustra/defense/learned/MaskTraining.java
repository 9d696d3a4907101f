package org.lustra.defense.learned;

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
 * Trains a {@link MaskNetwork} with the mean per-pixel binary cross-entropy between its logits and a true patch mask
 * (SAC §3.2 for its segmenter; Jedi §3.2 for its mask autoencoder), on examples drawn per step. AdamW with linear
 * warm-up then cosine decay; step k draws its batch from {@code Seed.of(seed).child(stream).child(k)}, and checkpoints
 * hold weights, optimiser moments and position, so a resumed run ends with the bytes of an uninterrupted one. A step
 * whose loss or gradients are not finite is skipped and counted; twenty in a row stop the run.
 */
public final class MaskTraining {

    /** Hyper-parameters; validated. */
    public record Options(int steps, int batchSize, float learningRate, int warmupSteps, float weightDecay, long seed,
            int checkpointSeconds, int historyEvery) {
        public Options {
            if (steps < 1 || batchSize < 1 || !(learningRate > 0 && learningRate < 1) || warmupSteps < 0
                    || !(weightDecay >= 0) || checkpointSeconds < 1 || historyEvery < 1) {
                throw new IllegalArgumentException("Invalid mask training options: steps=" + steps + " batch="
                        + batchSize + " lr=" + learningRate + " warmup=" + warmupSteps + " weightDecay=" + weightDecay
                        + " checkpointSeconds=" + checkpointSeconds + " historyEvery=" + historyEvery
                        + " (counts >= 1, lr in (0, 1), warm-up and decay >= 0)");
            }
        }

        /** The card's description of these settings; {@code stream} names the per-step random stream. */
        public Map<String, Object> describe(String stream) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("loss", "mean binary cross-entropy of per-pixel logits against the true patch mask");
            m.put("optimizer", "AdamW, weight decay " + weightDecay + " on rank >= 2 tensors");
            m.put("steps", steps);
            m.put("batch_size", batchSize);
            m.put("learning_rate", learningRate);
            m.put("schedule", "linear warm-up " + warmupSteps + " steps, then cosine to 0");
            m.put("seed", seed);
            m.put("random_streams", "step k draws its examples from Seed.of(seed).child(\"" + stream + "\").child(k)");
            return m;
        }
    }

    /**
     * Where a step's examples come from: n network inputs (n·C·H·W, C·H·W = {@link #inputShape}) with their true masks
     * (n·H·W), every random choice drawn from {@code rng} so a step replays exactly.
     */
    public interface Examples {
        record Batch(float[] inputs, float[] masks) {}

        Batch draw(int n, SplittableRandom rng);

        /** (C, H, W) of one input. */
        Shape inputShape();

        /** What a resumed run must have been made with besides the network and options (e.g. the patch synthesis). */
        String settingsKey();
    }

    /** What the run measured; the network was trained in place. */
    public record Result(double wallSeconds, long steps, long skippedSteps, List<Map<String, Object>> history) {}

    record State(long step, double wallSeconds, String optionsKey, List<Map<String, Object>> history,
            long skippedSteps) {}

    private final String label;
    private final String stream;

    /**
     * @param label what is trained, for progress lines and messages ("SAC segmenter")
     * @param stream the name of the per-step random stream
     */
    public MaskTraining(String label, String stream) {
        this.label = label;
        this.stream = stream;
    }

    /**
     * Trains {@code network} (freshly initialised by the caller) in place, stopping after {@code stopAfterStep} steps
     * with a checkpoint, as a killed run would ({@code Long.MAX_VALUE}: run to the end).
     */
    public Result train(MaskNetwork network, Examples data, Options opt, Path checkpointDir, Consumer<String> log,
            long stopAfterStep) {
        ConvolutionCheck.require(); // weight gradients pass convolution backward
        String key = Json.GSON.toJson(network.configFields()) + " | " + opt + " | " + data.settingsKey();
        CheckpointDir checkpoints = new CheckpointDir(checkpointDir);
        try (NDManager manager = NDManager.newBaseManager()) {
            AdamW adam = new AdamW(network.block(), manager, opt.weightDecay());
            State state = resume(network, adam, checkpoints, key, manager, log);
            List<Map<String, Object>> history = new ArrayList<>(state.history());
            long skipped = state.skippedSteps();
            int consecutive = 0;
            double windowLoss = 0;
            int windowCount = 0;
            Progress progress = new Progress("train " + label, opt.steps(), "steps");
            progress.startAt(state.step());
            long start = System.nanoTime();
            long lastCheckpoint = start;
            for (long step = state.step(); step < opt.steps(); step++) {
                float loss = step(network, adam, data, opt, step, manager);
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
                        throw new LustraException("Training of the " + label + " diverged: 20 consecutive non-finite "
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
                    checkpoint(checkpoints, network, adam, manager, new State(step + 1, wall, key, history, skipped));
                    lastCheckpoint = System.nanoTime();
                }
                if (stop && !last) {
                    return new Result(wall, step + 1, skipped, history);
                }
            }
            progress.finish(opt.steps(), "done");
            return new Result(state.wallSeconds() + (System.nanoTime() - start) / 1e9, opt.steps(), skipped, history);
        }
    }

    /** The saved state (weights and moments loaded) or a fresh one; refuses a checkpoint of other settings. */
    private static State resume(MaskNetwork network, AdamW adam, CheckpointDir checkpoints, String key,
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
            ModelStore.decodeInto(network.block(), w, manager, ckpt.toString());
            adam.restoreState(o, manager);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        log.accept(String.format(Locale.ROOT, "Resuming from %s at step %d (%.0f s already spent)", ckpt,
                saved.step(), saved.wallSeconds()));
        return saved;
    }

    /** One optimiser step; the batch's loss, or NaN when the step was skipped as non-finite. */
    private float step(MaskNetwork network, AdamW adam, Examples data, Options opt, long step, NDManager manager) {
        SplittableRandom rng = Seed.of(opt.seed()).child(stream).child(step).random();
        Examples.Batch b = data.draw(opt.batchSize(), rng);
        int n = opt.batchSize();
        Shape in = data.inputShape();
        try (NDManager s = manager.newSubManager()) {
            NDArray x = s.create(b.inputs(), new Shape(n, in.get(0), in.get(1), in.get(2)));
            NDArray y = s.create(b.masks(), new Shape(n, 1, in.get(1), in.get(2)));
            float value;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = bce(network.logits(new ParameterStore(s, false), x, true), y);
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
    public static NDArray bce(NDArray z, NDArray y) {
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

    private static void checkpoint(CheckpointDir checkpoints, MaskNetwork network, AdamW adam, NDManager manager,
            State state) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("weights.safetensors", ModelStore.encode(network.block()));
        files.put("optimizer.safetensors", adam.encodeState(manager));
        files.put("state.json", Json.GSON.toJson(state).getBytes(StandardCharsets.UTF_8));
        checkpoints.write(files);
    }

    /**
     * The model card of a finished run: the options, {@code extra} (how examples were made), steps, skipped steps,
     * history and wall time; {@code data} and {@code split} say which images trained it.
     */
    public ModelCard card(String name, String role, Result r, Options opt, Map<String, Object> extra, String data,
            String split, String command) {
        Map<String, Object> training = new LinkedHashMap<>(opt.describe(stream));
        training.putAll(extra);
        training.put("steps_done", r.steps());
        training.put("skipped_steps", r.skippedSteps());
        training.put("engine_threads", System.getProperty("ai.djl.pytorch.num_threads", "default"));
        training.put("history", r.history());
        return new ModelCard(name, role, null, 0, null, data, split, command, opt.seed(), training,
                Math.round(r.wallSeconds() * 10) / 10.0, null, null, Versions.describe(), null, null, null);
    }

    public static float learningRate(Options opt, long step) {
        if (step < opt.warmupSteps()) {
            return opt.learningRate() * (step + 1) / opt.warmupSteps();
        }
        double p = (double) (step - opt.warmupSteps()) / Math.max(1, opt.steps() - opt.warmupSteps());
        return (float) (opt.learningRate() * 0.5 * (1 + Math.cos(Math.PI * p)));
    }
}
