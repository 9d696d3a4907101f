package org.lustra.diffusion;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
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
import java.util.function.Consumer;
import org.lustra.data.ImageSet;
import org.lustra.diffusion.DiffusionTraining.Options;
import org.lustra.diffusion.DiffusionTraining.Result;
import org.lustra.diffusion.DiffusionTraining.State;
import org.lustra.model.ModelStore;
import org.lustra.nn.AdamW;
import org.lustra.util.CheckpointDir;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.Progress;
import org.lustra.util.SafeTensors;
import org.lustra.util.Seed;

/** One {@link DiffusionTraining} run's model, optimiser, EMA and bookkeeping, from the first (or resumed) step to the last. */
final class TrainingRun {
    private final DiffusionConfig config;
    private final ImageSet train;
    private final Captions captions;
    private final Options opt;
    private final CheckpointDir checkpoints;
    private final String optionsKey;
    private final Consumer<String> log;
    private final NDManager manager = NDManager.newBaseManager();
    private final DiffusionModel model;
    private final AdamW adam;
    private final List<NDArray> weights = new ArrayList<>();
    private final List<NDArray> ema = new ArrayList<>();
    private final TextProbe probe;
    private State state;
    private long skipped;
    private int consecutiveSkips;

    TrainingRun(DiffusionConfig config, ImageSet train, Captions captions, Options opt, CheckpointDir checkpoints,
            Consumer<String> log) {
        this.config = config;
        this.train = train;
        this.captions = captions;
        this.opt = opt;
        this.checkpoints = checkpoints;
        this.optionsKey = DiffusionTraining.optionsKey(config, opt);
        this.log = log;
        this.model = DiffusionModel.create(config, manager, opt.seed());
        this.adam = new AdamW(model.net(), manager, 0.9f, 0.999f, 1e-8f, 0f);
        if (opt.textLrFactor() != 1f) {
            // v1's token table ended at std 0.0216 from its 0.02 initialisation: its Adam steps barely moved it
            adam.scaleLearningRate("prompt_tokens", opt.textLrFactor());
            adam.scaleLearningRate("prompt_positions", opt.textLrFactor());
        }
        for (Pair<String, Parameter> p : model.net().getParameters()) {
            weights.add(p.getValue().getArray());
            ema.add(p.getValue().getArray().duplicate());
        }
        this.probe = new TextProbe(train, captions, config, Seed.of(opt.seed()).child("text-probe"));
        this.state = new State(0, 0, optionsKey, new ArrayList<>(), 0);
    }

    /** Loads weights, EMA and optimiser state from {@code ckpt}; a changed run length re-fits the schedule. */
    void resume(Path ckpt, State saved) {
        try (InputStream w = Files.newInputStream(ckpt.resolve("weights.safetensors"));
                InputStream e = Files.newInputStream(ckpt.resolve("ema.safetensors"));
                InputStream o = Files.newInputStream(ckpt.resolve("optimizer.safetensors"))) {
            ModelStore.decodeInto(model.net(), w, manager, ckpt.toString());
            DiffusionTraining.restoreArrays(ema, e, manager);
            adam.restoreState(o, manager);
        } catch (IOException ex) {
            manager.close();
            throw new UncheckedIOException(ex);
        }
        state = new State(saved.step(), saved.wallSeconds(), optionsKey, new ArrayList<>(saved.history()),
                saved.skippedSteps());
        long savedSteps = DiffusionTraining.stepsOf(saved.optionsKey());
        if (savedSteps != opt.steps()) {
            // The run length may change on resume (a run that has to fit a time budget); the cosine schedule
            // is re-fitted to the new length from this step on, and the change is kept in the history.
            Map<String, Object> change = new LinkedHashMap<>();
            change.put("step", saved.step());
            change.put("schedule_change", "total steps " + savedSteps + " -> " + opt.steps()
                    + "; cosine re-fitted from this step");
            state.history().add(change);
            log.accept("Run length changed from " + savedSteps + " to " + opt.steps() + " steps at step "
                    + saved.step() + "; the learning-rate schedule follows the new length from here.");
        }
        log.accept(String.format(Locale.ROOT, "Resuming from %s at step %d (%.0f s already spent)", ckpt,
                state.step(), state.wallSeconds()));
    }

    Result run(long stopAfterStep) {
        skipped = state.skippedSteps();
        Progress progress = new Progress("train diffusion", opt.steps(), "steps");
        progress.startAt(state.step());
        long runStart = System.nanoTime();
        long lastCheckpoint = System.nanoTime();
        double lossAvg = Double.NaN;
        double lossWindow = 0;
        int windowCount = 0;
        for (long step = state.step(); step < opt.steps(); step++) {
            TrainingBatch batch = TrainingBatch.draw(train, captions, opt, config, model.schedule().steps(), step);
            float lr = DiffusionTraining.learningRate(opt, step);
            float loss = descend(batch, lr, step);
            if (Float.isNaN(loss)) {
                continue; // skipped: logged and counted by descend
            }
            lossWindow += loss;
            windowCount++;
            lossAvg = Double.isNaN(lossAvg) ? loss : 0.98 * lossAvg + 0.02 * loss;
            double wall = state.wallSeconds() + (System.nanoTime() - runStart) / 1e9;
            progress.update(step + 1, String.format(Locale.ROOT, "loss %.4f  lr %.2e", lossAvg, lr));
            boolean last = step + 1 == opt.steps();
            boolean stop = step + 1 >= stopAfterStep;
            if ((step + 1) % 500 == 0 || last) {
                measure(step + 1, lossWindow / windowCount, wall);
                lossWindow = 0;
                windowCount = 0;
            }
            if (last || stop || (System.nanoTime() - lastCheckpoint) / 1e9 >= opt.checkpointSeconds()) {
                checkpoint(step + 1, wall);
                lastCheckpoint = System.nanoTime();
            }
            if (stop && !last) {
                return new Result(model, wall, step + 1, state.history());
            }
        }
        progress.finish(opt.steps(), "done");
        for (int i = 0; i < weights.size(); i++) {
            ema.get(i).copyTo(weights.get(i));
        }
        return new Result(model, state.wallSeconds() + (System.nanoTime() - runStart) / 1e9, opt.steps(),
                state.history());
    }

    /**
     * One AdamW step and EMA update on {@code batch}; returns the loss, or NaN when the step was skipped because
     * its loss or gradients came out non-finite.
     */
    private float descend(TrainingBatch b, float lr, long step) {
        try (NDManager s = manager.newSubManager()) {
            Shape images = new Shape(b.n(), b.channels(), b.size(), b.size());
            NDArray x0a = s.create(b.x0(), images);
            NDArray ma = s.create(b.mask(), new Shape(b.n(), 1, b.size(), b.size()));
            NDArray eps = s.create(b.noise(), images);
            NDArray masked = x0a.mul(ma.sub(1f).neg());
            NDArray xt = model.schedule().addNoise(x0a, b.t(), eps);
            float loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray ctx = model.context(s, b.prompts(), true);
                NDArray pred = model.predictNoise(xt, b.t(), ma, masked, ctx, true);
                NDArray l = pred.sub(eps).square().mean();
                gc.backward(l);
                loss = l.getFloat();
            }
            // A guard, not a cure: the rare non-finite steps of November's runs had causes since found and fixed
            // (scalar operands the garbage collector freed before the backward pass; oneDNN's wrong AVX-512
            // convolution backward, capped by DNNL_MAX_CPU_ISA=AVX and refused by ConvolutionCheck: README, "Engine
            // facts"). Should one still occur, skip it instead of poisoning the weights, count it in the history,
            // and give up if it keeps happening.
            if (!Float.isFinite(loss) || !Float.isFinite(adam.gradientL1(s))) {
                adam.zeroGradients(s);
                skipped++;
                consecutiveSkips++;
                log.accept("step " + step + ": non-finite loss or gradient (loss " + loss + "), step skipped ("
                        + skipped + " so far)");
                if (consecutiveSkips >= 20) {
                    throw new LustraException("Diffusion training diverged: 20 consecutive non-finite steps at step "
                            + step + "; lower --lr and resume from the last checkpoint.");
                }
                return Float.NaN;
            }
            consecutiveSkips = 0;
            adam.step(s, lr);
            updateEma(ema, weights, opt.emaDecay(), s);
            return loss;
        }
    }

    /** A history entry: the window's mean loss, wall time, skipped steps and the text probe. */
    private void measure(long steps, double meanLoss, double wall) {
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("step", steps);
        rec.put("loss", meanLoss);
        rec.put("wall_seconds", wall);
        rec.put("skipped_steps_total", skipped);
        rec.putAll(probe.measure(model, manager));
        state.history().add(rec);
    }

    private void checkpoint(long steps, double wall) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("weights.safetensors", ModelStore.encode(model.net()));
        files.put("ema.safetensors", encodeArrays(ema, manager));
        files.put("optimizer.safetensors", adam.encodeState(manager));
        files.put("state.json", Json.GSON.toJson(new State(steps, wall, optionsKey, state.history(), skipped))
                .getBytes(StandardCharsets.UTF_8));
        checkpoints.write(files);
    }

    private static void updateEma(List<NDArray> ema, List<NDArray> weights, float decay, NDManager scratch) {
        for (int i = 0; i < ema.size(); i++) {
            try (NDManager s = scratch.newSubManager()) {
                NDArray e = ema.get(i);
                NDArray w = weights.get(i);
                s.tempAttachAll(e, w);
                e.muli(decay).addi(w.mul(1 - decay));
            }
        }
    }

    private static byte[] encodeArrays(List<NDArray> arrays, NDManager scratch) {
        Map<String, NDArray> named = new LinkedHashMap<>();
        for (int i = 0; i < arrays.size(); i++) {
            named.put("ema/" + i, arrays.get(i));
        }
        return SafeTensors.encode(named, scratch);
    }
}
