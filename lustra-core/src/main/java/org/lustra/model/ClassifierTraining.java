package org.lustra.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.lustra.data.ImageSet;
import org.lustra.nn.AdamW;
import org.lustra.nn.ClassifierNet;
import org.lustra.nn.ConvolutionCheck;
import org.lustra.util.CheckpointDir;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.Permutations;
import org.lustra.util.Progress;

/**
 * Supervised training of a classifier network: AdamW, linear warm-up then cosine decay, random shifts and
 * (optionally) horizontal flips drawn from a seeded Java generator. Checkpoints (weights, optimiser moments,
 * position) are written atomically every {@code checkpointSeconds}; a restarted run resumes at the exact step, with
 * the same data order and augmentation. (Dropout draws from the engine's generator and is not replayed.)
 */
public final class ClassifierTraining {

    /** Hyper-parameters; validated on construction. */
    public record Options(int epochs, int batchSize, float learningRate, float weightDecay, int warmupSteps,
            boolean flip, int maxShift, long seed, int checkpointSeconds) {
        public Options {
            if (epochs < 1 || epochs > 1000) {
                throw new IllegalArgumentException("Invalid number of epochs: " + epochs + " (1..1000)");
            }
            if (batchSize < 1 || batchSize > 4096) {
                throw new IllegalArgumentException("Invalid batch size: " + batchSize + " (1..4096)");
            }
            if (!(learningRate > 0 && learningRate < 1)) {
                throw new IllegalArgumentException("Invalid learning rate: " + learningRate + " (0..1)");
            }
            if (weightDecay < 0 || warmupSteps < 0 || maxShift < 0 || maxShift > 8 || checkpointSeconds < 1) {
                throw new IllegalArgumentException("Invalid options: weightDecay=" + weightDecay + " warmupSteps="
                        + warmupSteps + " maxShift=" + maxShift + " checkpointSeconds=" + checkpointSeconds);
            }
        }

        public Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("optimizer", "AdamW");
            m.put("epochs", epochs);
            m.put("batch_size", batchSize);
            m.put("learning_rate", learningRate);
            m.put("weight_decay", weightDecay);
            m.put("schedule", "linear warm-up " + warmupSteps + " steps, then cosine to 0");
            m.put("augmentation", "random shift up to " + maxShift + " px" + (flip ? " + horizontal flip" : ""));
            m.put("seed", seed);
            return m;
        }
    }

    /** The trained network (owned by {@code manager}) and what the run measured. */
    public record Result(ClassifierNet net, NDManager manager, List<Map<String, Object>> history, double wallSeconds,
            long steps, double validationAccuracy) {}

    /** Position of a checkpoint, stored as JSON beside the arrays. */
    record State(int epoch, int stepInEpoch, long globalStep, double wallSeconds, String optionsKey,
            List<Map<String, Object>> history) {}

    private ClassifierTraining() {}

    public static Result train(Architecture arch, ImageSet train, ImageSet val, Options opt, Path checkpointDir,
            Consumer<String> log) {
        return train(arch, train, val, opt, checkpointDir, log, Long.MAX_VALUE);
    }

    /**
     * As {@link #train(Architecture, ImageSet, ImageSet, Options, Path, Consumer)}, but stops (after writing a
     * checkpoint) once {@code stopAfterStep} global steps are done — how tests simulate a killed run.
     */
    static Result train(Architecture arch, ImageSet train, ImageSet val, Options opt, Path checkpointDir,
            Consumer<String> log, long stopAfterStep) {
        ConvolutionCheck.require(); // weight gradients pass through convolution backward
        if (train.channels() != arch.channels() || train.height() != arch.size() || train.width() != arch.size()) {
            throw new LustraException("Training images are " + train.channels() + "x" + train.height() + "x"
                    + train.width() + " but the architecture expects " + arch.channels() + "x" + arch.size() + "x"
                    + arch.size() + ".");
        }
        NDManager manager = NDManager.newBaseManager();
        ClassifierNet net = arch.initialize(manager, opt.seed());
        AdamW adam = new AdamW(net, manager, opt.weightDecay());

        int stepsPerEpoch = train.size() / opt.batchSize();
        long totalSteps = (long) stepsPerEpoch * opt.epochs();
        String optionsKey = arch + " | " + opt;
        CheckpointDir checkpoints = new CheckpointDir(checkpointDir);
        State state = resume(checkpoints, checkpointDir, optionsKey, net, adam, manager, log);

        ParameterStore ps = new ParameterStore(manager, false);
        Progress progress = new Progress("train " + arch.type(), totalSteps, "steps");
        progress.startAt(state.globalStep());
        long runStart = System.nanoTime();
        long lastCheckpoint = System.nanoTime();
        EpochStats stats = new EpochStats(opt.batchSize());
        for (int epoch = state.epoch(); epoch < opt.epochs(); epoch++) {
            int[] order = Permutations.random(train.size(), new SplittableRandom(opt.seed() * 1_000_003L + epoch)::nextInt);
            int startStep = epoch == state.epoch() ? state.stepInEpoch() : 0;
            for (int s = startStep; s < stepsPerEpoch; s++) {
                long global = (long) epoch * stepsPerEpoch + s;
                float lr = learningRate(opt, global, totalSteps);
                descend(net, ps, adam, manager, train, order, s, global, lr, arch.classes(), opt, stats);
                double wall = state.wallSeconds() + (System.nanoTime() - runStart) / 1e9;
                progress.update(global + 1, String.format(Locale.ROOT, "epoch %d/%d  loss %.4f  train-acc %.2f%%  lr %.2e",
                        epoch + 1, opt.epochs(), stats.meanLoss(), stats.percentCorrect(), lr));
                boolean endOfEpoch = s + 1 == stepsPerEpoch;
                if (endOfEpoch) {
                    state.history().add(endEpoch(net, manager, val, epoch, opt.epochs(), stats, wall, log));
                    stats = new EpochStats(opt.batchSize());
                }
                boolean stop = global + 1 >= stopAfterStep;
                if (stop || endOfEpoch || (System.nanoTime() - lastCheckpoint) / 1e9 >= opt.checkpointSeconds()) {
                    int nextEpoch = endOfEpoch ? epoch + 1 : epoch;
                    int nextStep = endOfEpoch ? 0 : s + 1;
                    writeCheckpoint(checkpoints, net, adam, manager,
                            new State(nextEpoch, nextStep, global + 1, wall, optionsKey, state.history()));
                    lastCheckpoint = System.nanoTime();
                }
                if (stop && global + 1 < totalSteps) {
                    return new Result(net, manager, state.history(), state.wallSeconds()
                            + (System.nanoTime() - runStart) / 1e9, global + 1, Double.NaN);
                }
            }
        }
        double wall = state.wallSeconds() + (System.nanoTime() - runStart) / 1e9;
        progress.finish(totalSteps, "done");
        List<Map<String, Object>> history = state.history();
        double valAcc = history.isEmpty() ? Double.NaN
                : (double) history.get(history.size() - 1).get("validation_accuracy");
        return new Result(net, manager, history, wall, totalSteps, valAcc);
    }

    /** A fresh state, or the latest checkpoint's with its weights and optimiser moments loaded into net and adam. */
    private static State resume(CheckpointDir checkpoints, Path checkpointDir, String optionsKey, ClassifierNet net,
            AdamW adam, NDManager manager, Consumer<String> log) {
        Path ckpt = checkpoints.latest();
        if (ckpt == null || !Files.isRegularFile(ckpt.resolve("state.json"))) {
            return new State(0, 0, 0, 0, optionsKey, new ArrayList<>());
        }
        State saved = Json.read(ckpt.resolve("state.json"), State.class);
        if (!optionsKey.equals(saved.optionsKey())) {
            throw new LustraException("Checkpoint in " + checkpointDir + " was made with different settings ("
                    + saved.optionsKey() + "); delete it or pass another --checkpoint-dir.");
        }
        try (InputStream w = Files.newInputStream(ckpt.resolve("weights.safetensors"));
                InputStream o = Files.newInputStream(ckpt.resolve("optimizer.safetensors"))) {
            ModelStore.decodeInto(net, w, manager, ckpt.toString());
            adam.restoreState(o, manager);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        State state = new State(saved.epoch(), saved.stepInEpoch(), saved.globalStep(), saved.wallSeconds(),
                optionsKey, new ArrayList<>(saved.history()));
        log.accept(String.format(Locale.ROOT, "Resuming from %s at epoch %d step %d (%.0f s already spent)",
                ckpt, state.epoch() + 1, state.stepInEpoch(), state.wallSeconds()));
        return state;
    }

    /**
     * One AdamW step on batch {@code s} of the epoch's {@code order}; its augmentation draws from a generator seeded
     * by the global step, so a resumed run repeats it exactly.
     */
    private static void descend(ClassifierNet net, ParameterStore ps, AdamW adam, NDManager manager, ImageSet train,
            int[] order, int s, long global, float lr, int classes, Options opt, EpochStats stats) {
        int imageSize = train.imageSize();
        SplittableRandom aug = new SplittableRandom(opt.seed() ^ (global * 0x9E3779B97F4A7C15L));
        float[] x = new float[opt.batchSize() * imageSize];
        float[] onehot = new float[opt.batchSize() * classes];
        int[] labels = new int[opt.batchSize()];
        for (int b = 0; b < opt.batchSize(); b++) {
            int idx = order[s * opt.batchSize() + b];
            augment(train.imageBytes(idx), x, b * imageSize, train.channels(), train.height(), train.width(), opt,
                    aug);
            labels[b] = train.label(idx);
            onehot[b * classes + labels[b]] = 1f;
        }
        try (NDManager step = manager.newSubManager()) {
            NDArray xs = step.create(x, new Shape(opt.batchSize(), train.channels(), train.height(), train.width()));
            NDArray ys = step.create(onehot, new Shape(opt.batchSize(), classes));
            NDArray loss;
            NDArray logits;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDList out = net.forward(ps, new NDList(xs), true);
                logits = out.get(0);
                loss = logits.logSoftmax(1).mul(ys).sum(new int[] {1}).mean().neg();
                gc.backward(loss);
            }
            adam.step(step, lr);
            stats.add(loss.getFloat(), logits.argMax(1).toLongArray(), labels);
        }
    }

    /** Validation accuracy at the end of an epoch, as the history entry the model card keeps; logged. */
    private static Map<String, Object> endEpoch(ClassifierNet net, NDManager manager, ImageSet val, int epoch,
            int epochs, EpochStats stats, double wall, Consumer<String> log) {
        double valAcc = Predictions.accuracy(Predictions.predict(
                xb -> net.forward(new ParameterStore(xb.getManager(), false), new NDList(xb), false).get(0),
                val, 250, manager, null), val);
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("epoch", epoch + 1);
        h.put("train_loss", stats.meanLoss());
        h.put("train_accuracy", stats.accuracy());
        h.put("validation_accuracy", valAcc);
        h.put("wall_seconds", wall);
        log.accept(String.format(Locale.ROOT, "epoch %d/%d: train loss %.4f, train acc %.2f%%, "
                + "validation acc %.2f%% (%d images), %s elapsed", epoch + 1, epochs, stats.meanLoss(),
                stats.percentCorrect(), 100 * valAcc, val.size(), Progress.formatDuration(wall)));
        return h;
    }

    /** Running training loss and accuracy within one epoch (since the run's start, for a resumed epoch). */
    private static final class EpochStats {
        private final int batchSize;
        private double lossSum;
        private int correct;
        private int seen;

        EpochStats(int batchSize) {
            this.batchSize = batchSize;
        }

        void add(float batchLoss, long[] predicted, int[] labels) {
            lossSum += batchLoss;
            for (int b = 0; b < predicted.length; b++) {
                correct += predicted[b] == labels[b] ? 1 : 0;
            }
            seen += predicted.length;
        }

        double meanLoss() {
            return lossSum / Math.max(1, seen / (double) batchSize);
        }

        double accuracy() {
            return (double) correct / Math.max(1, seen);
        }

        /** As the logs always printed it (100.0 · correct / seen, not 100 · accuracy(): the last digit can differ). */
        double percentCorrect() {
            return 100.0 * correct / Math.max(1, seen);
        }
    }

    static float learningRate(Options opt, long step, long total) {
        if (step < opt.warmupSteps()) {
            return opt.learningRate() * (step + 1) / opt.warmupSteps();
        }
        double t = (double) (step - opt.warmupSteps()) / Math.max(1, total - opt.warmupSteps());
        return (float) (opt.learningRate() * 0.5 * (1 + Math.cos(Math.PI * t)));
    }

    /** Random shift (zero fill) and optional horizontal flip of one CHW image into {@code out} at {@code off}. */
    static void augment(byte[] img, float[] out, int off, int c, int h, int w, Options opt, SplittableRandom rng) {
        int dy = opt.maxShift() > 0 ? rng.nextInt(2 * opt.maxShift() + 1) - opt.maxShift() : 0;
        int dx = opt.maxShift() > 0 ? rng.nextInt(2 * opt.maxShift() + 1) - opt.maxShift() : 0;
        boolean flip = opt.flip() && rng.nextBoolean();
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                int sy = y - dy;
                for (int x = 0; x < w; x++) {
                    int sx = (flip ? w - 1 - x : x) - dx;
                    float v = sy >= 0 && sy < h && sx >= 0 && sx < w ? (img[(ch * h + sy) * w + sx] & 0xff) / 255f : 0f;
                    out[off + (ch * h + y) * w + x] = v;
                }
            }
        }
    }

    private static void writeCheckpoint(CheckpointDir dir, ClassifierNet net, AdamW adam, NDManager manager,
            State state) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("weights.safetensors", ModelStore.encode(net));
        files.put("optimizer.safetensors", adam.encodeState(manager));
        files.put("state.json", Json.GSON.toJson(state).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        dir.write(files);
    }
}
