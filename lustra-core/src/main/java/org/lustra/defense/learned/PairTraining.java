package org.lustra.defense.learned;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
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
import org.lustra.data.ImageSet;
import org.lustra.model.Classifier;
import org.lustra.model.ModelStore;
import org.lustra.nn.AdamW;
import org.lustra.nn.ConvolutionCheck;
import org.lustra.util.CheckpointDir;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.Progress;
import org.lustra.util.Seed;

/**
 * Trains a {@link PurifierNetwork} on (adversarial, clean) pairs of the training split, the adversarial half made on
 * the fly by {@link AdversarialPairs} against the protected classifier; the loss is the network's own (MAEP: ℓ1 on
 * visible + ℓ1 on hidden patches; DISCO: ℓ1). AdamW with linear warm-up then cosine decay. Step k draws its batch, its
 * ε slices, its PGD starts and its mask from {@code Seed.of(seed).child(kind + "-training").child(k)}, and checkpoints
 * hold weights, optimiser moments and position, so a resumed run ends with the bytes of an uninterrupted one. A step
 * whose loss or gradients are not finite is skipped and counted; twenty in a row stop the run.
 */
public final class PairTraining {

    /** Hyper-parameters; validated. ε = 0 in {@code epsilons} mixes clean pairs in. */
    public record Options(int steps, int batchSize, float learningRate, int warmupSteps, float weightDecay,
            List<Double> epsilons, int pgdSteps, long seed, int checkpointSeconds, int historyEvery) {
        public Options {
            if (steps < 1 || batchSize < 1 || !(learningRate > 0 && learningRate < 1) || warmupSteps < 0
                    || !(weightDecay >= 0) || pgdSteps < 1 || checkpointSeconds < 1 || historyEvery < 1) {
                throw new IllegalArgumentException("Invalid purifier training options: steps=" + steps + " batch="
                        + batchSize + " lr=" + learningRate + " warmup=" + warmupSteps + " weightDecay=" + weightDecay
                        + " pgdSteps=" + pgdSteps + " checkpointSeconds=" + checkpointSeconds + " historyEvery="
                        + historyEvery + " (counts >= 1, lr in (0, 1), warm-up and decay >= 0)");
            }
            if (epsilons == null || epsilons.isEmpty() || epsilons.size() > batchSize
                    || epsilons.stream().anyMatch(e -> e == null || !(e >= 0 && e < 1))) {
                throw new IllegalArgumentException("Invalid PGD budgets " + epsilons + " for batch " + batchSize
                        + ": need 1..batch values in [0, 1) (0 = clean pairs)");
            }
            epsilons = List.copyOf(epsilons);
        }

        public Map<String, Object> describe(String kind) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("optimizer", "AdamW, weight decay " + weightDecay + " on rank >= 2 tensors");
            m.put("steps", steps);
            m.put("batch_size", batchSize);
            m.put("learning_rate", learningRate);
            m.put("schedule", "linear warm-up " + warmupSteps + " steps, then cosine to 0");
            m.put("pairs", "PGD linf on the protected classifier, " + pgdSteps + " steps, step 2.5 eps/steps, random "
                    + "start, highest-loss iterate; the batch split evenly over eps " + epsilons + " (0 = clean)");
            m.put("seed", seed);
            m.put("random_streams", "step k draws batch, eps order, PGD starts and masks from Seed.of(seed).child(\""
                    + kind + "-training\").child(k)");
            return m;
        }
    }

    /** The trained network (owned by the caller from here) and what the run measured. */
    public record Result(PurifierNetwork network, double wallSeconds, long steps, long skippedSteps,
            List<Map<String, Object>> history) {}

    record State(long step, double wallSeconds, String optionsKey, List<Map<String, Object>> history,
            long skippedSteps) {}

    /** What the loop keeps between steps. */
    private static final class Run {
        final AdamW adam;
        State state;
        long skipped;
        int consecutiveSkips;
        final Map<String, Double> window = new LinkedHashMap<>();
        int windowCount;

        Run(AdamW adam, State state) {
            this.adam = adam;
            this.state = state;
            this.skipped = state.skippedSteps();
        }
    }

    private PairTraining() {}

    /** Trains {@code network} (freshly initialised by the caller) in place; it is returned in the result. */
    public static Result train(PurifierNetwork network, ImageSet train, Classifier classifier, Options opt,
            Path checkpointDir, Consumer<String> log) {
        return train(network, train, classifier, opt, checkpointDir, log, Long.MAX_VALUE);
    }

    /** As above, stopping after {@code stopAfterStep} steps with a checkpoint, as a killed run would. */
    static Result train(PurifierNetwork network, ImageSet train, Classifier classifier, Options opt,
            Path checkpointDir, Consumer<String> log, long stopAfterStep) {
        ConvolutionCheck.require(); // PGD's input gradients and DISCO's weight gradients pass convolution backward
        if (train.channels() != network.channels() || train.height() != network.size()
                || train.width() != network.size() || classifier.channels() != network.channels()
                || classifier.size() != network.size()) {
            throw new LustraException("Training images are " + train.channels() + "x" + train.height() + "x"
                    + train.width() + ", the classifier takes " + classifier.channels() + "x" + classifier.size() + "x"
                    + classifier.size() + ", but the " + network.kind() + " network expects " + network.channels()
                    + "x" + network.size() + "x" + network.size() + ".");
        }
        NDManager manager = NDManager.newBaseManager();
        try {
            String key = network.kind() + " " + Json.GSON.toJson(network.configFields()) + " | " + opt;
            CheckpointDir checkpoints = new CheckpointDir(checkpointDir);
            Run run = new Run(new AdamW(network.block(), manager, opt.weightDecay()), new State(0, 0, key,
                    new ArrayList<>(), 0));
            resume(network, run, checkpoints, manager, log);
            Progress progress = new Progress("train " + network.kind(), opt.steps(), "steps");
            progress.startAt(run.state.step());
            long runStart = System.nanoTime();
            long lastCheckpoint = System.nanoTime();
            for (long step = run.state.step(); step < opt.steps(); step++) {
                Map<String, Float> loss = step(network, train, classifier, opt, step, run, manager, log);
                double wall = run.state.wallSeconds() + (System.nanoTime() - runStart) / 1e9;
                if (loss != null) {
                    progress.update(step + 1, progressText(loss, learningRate(opt, step)));
                }
                boolean last = step + 1 == opt.steps();
                boolean stop = step + 1 >= stopAfterStep;
                if ((step + 1) % opt.historyEvery() == 0 || last) {
                    record(run, step + 1, wall);
                }
                if (last || stop || (System.nanoTime() - lastCheckpoint) / 1e9 >= opt.checkpointSeconds()) {
                    checkpoint(checkpoints, network, run, manager, new State(step + 1, wall, key,
                            run.state.history(), run.skipped));
                    lastCheckpoint = System.nanoTime();
                }
                if (stop && !last) {
                    return new Result(network, wall, step + 1, run.skipped, run.state.history());
                }
            }
            progress.finish(opt.steps(), "done");
            return new Result(network, run.state.wallSeconds() + (System.nanoTime() - runStart) / 1e9, opt.steps(),
                    run.skipped, run.state.history());
        } finally {
            manager.close();
        }
    }

    /** Loads the latest checkpoint into the network and the optimiser, if there is one made with these settings. */
    private static void resume(PurifierNetwork network, Run run, CheckpointDir checkpoints, NDManager manager,
            Consumer<String> log) {
        Path ckpt = checkpoints.latest();
        if (ckpt == null || !Files.isRegularFile(ckpt.resolve("state.json"))) {
            return;
        }
        State saved = Json.read(ckpt.resolve("state.json"), State.class);
        if (!run.state.optionsKey().equals(saved.optionsKey())) {
            throw new LustraException("Checkpoint in " + checkpoints.root() + " was made with different settings ("
                    + saved.optionsKey() + "); delete it or pass another --checkpoint-dir.");
        }
        try (InputStream w = Files.newInputStream(ckpt.resolve("weights.safetensors"));
                InputStream o = Files.newInputStream(ckpt.resolve("optimizer.safetensors"))) {
            ModelStore.decodeInto(network.block(), w, manager, ckpt.toString());
            run.adam.restoreState(o, manager);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        run.state = new State(saved.step(), saved.wallSeconds(), saved.optionsKey(), new ArrayList<>(saved.history()),
                saved.skippedSteps());
        run.skipped = saved.skippedSteps();
        log.accept(String.format(Locale.ROOT, "Resuming from %s at step %d (%.0f s already spent)", ckpt,
                saved.step(), saved.wallSeconds()));
    }

    /** One optimiser step; the loss parts, or null when the step was skipped as non-finite. */
    private static Map<String, Float> step(PurifierNetwork network, ImageSet train, Classifier classifier,
            Options opt, long step, Run run, NDManager manager, Consumer<String> log) {
        SplittableRandom rng = Seed.of(opt.seed()).child(network.kind() + "-training").child(step).random();
        int n = opt.batchSize();
        int per = train.imageSize();
        float[] clean = new float[n * per];
        int[] labels = new int[n];
        for (int b = 0; b < n; b++) {
            int index = rng.nextInt(train.size());
            System.arraycopy(train.imageFloats(index), 0, clean, b * per, per);
            labels[b] = train.label(index);
        }
        Shape image = new Shape(train.channels(), train.height(), train.width());
        float[] adversarial = AdversarialPairs.generate(classifier, manager, clean, labels, image, opt.epsilons(),
                opt.pgdSteps(), rng);
        Map<String, Float> values = new LinkedHashMap<>();
        try (NDManager s = manager.newSubManager()) {
            Shape batch = new Shape(n, train.channels(), train.height(), train.width());
            NDArray x = s.create(adversarial, batch);
            NDArray target = s.create(clean, batch);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                PurifierNetwork.Loss loss = network.loss(new ParameterStore(s, false), x, target, rng);
                gc.backward(loss.total());
                values.put("loss", loss.total().getFloat());
                loss.parts().forEach((k, v) -> values.put(k, v.getFloat()));
            }
            if (!values.values().stream().allMatch(Float::isFinite) || !Float.isFinite(run.adam.gradientL1(s))) {
                run.adam.zeroGradients(s);
                run.skipped++;
                log.accept("step " + step + ": non-finite loss or gradient " + values + ", step skipped ("
                        + run.skipped + " so far)");
                if (++run.consecutiveSkips >= 20) {
                    throw new LustraException("Training of " + network.kind() + " diverged: 20 consecutive non-finite "
                            + "steps at step " + step + "; lower --lr and resume from the last checkpoint.");
                }
                return null;
            }
            run.consecutiveSkips = 0;
            run.adam.step(s, learningRate(opt, step));
        }
        values.forEach((k, v) -> run.window.merge(k, (double) v, Double::sum));
        run.windowCount++;
        return values;
    }

    /** Appends the window's mean losses to the history and starts a new window. */
    private static void record(Run run, long step, double wall) {
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("step", step);
        int count = Math.max(1, run.windowCount);
        run.window.forEach((k, v) -> rec.put(k, v / count));
        rec.put("wall_seconds", wall);
        rec.put("skipped_steps_total", run.skipped);
        run.state.history().add(rec);
        run.window.clear();
        run.windowCount = 0;
    }

    private static void checkpoint(CheckpointDir checkpoints, PurifierNetwork network, Run run, NDManager manager,
            State state) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("weights.safetensors", ModelStore.encode(network.block()));
        files.put("optimizer.safetensors", run.adam.encodeState(manager));
        files.put("state.json", Json.GSON.toJson(state).getBytes(StandardCharsets.UTF_8));
        checkpoints.write(files);
    }

    private static String progressText(Map<String, Float> loss, float lr) {
        StringBuilder b = new StringBuilder();
        loss.forEach((k, v) -> b.append(String.format(Locale.ROOT, "%s %.4f  ", k, v)));
        return b.append(String.format(Locale.ROOT, "lr %.2e", lr)).toString();
    }

    static float learningRate(Options opt, long step) {
        if (step < opt.warmupSteps()) {
            return opt.learningRate() * (step + 1) / opt.warmupSteps();
        }
        double p = (double) (step - opt.warmupSteps()) / Math.max(1, opt.steps() - opt.warmupSteps());
        return (float) (opt.learningRate() * 0.5 * (1 + Math.cos(Math.PI * p)));
    }
}
