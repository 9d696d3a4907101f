package org.lustra.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.file.Files;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Purifier;
import org.lustra.defense.disco.Disco;
import org.lustra.defense.disco.DiscoNetwork;
import org.lustra.defense.learned.LearnedPurifier;
import org.lustra.defense.learned.PurifierNetwork;
import org.lustra.defense.maep.Maep;
import org.lustra.defense.maep.MaepNetwork;
import org.lustra.diffusion.DiffusionConfig;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.model.Classifier;
import org.lustra.model.ClassifierPresets;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.nn.AdamW;
import org.lustra.util.LustraHome;

/**
 * What {@code bench} times end to end: purifiers (DiffPure, DIFFender, MAEP, DISCO), EXACT gradients through DiffPure
 * and the learned purifiers, and a diffusion training step.
 */
final class BenchPipelines {
    private BenchPipelines() {}

    /** Images per second of {@code p} on the batch {@code x} (a new seed per run). */
    static double purifyImagesPerSecond(Purifier p, NDArray x, BenchTiming timing) {
        AtomicLong seed = new AtomicLong();
        double sec = timing.medianSeconds(x.getManager(), s -> {
            s.tempAttachAll(x);
            p.purify(x, seed.incrementAndGet());
        });
        return x.getShape().get(0) / sec;
    }

    /**
     * Images per second of one cross-entropy loss and input gradient through {@code defended} in mode EXACT — for
     * DiffPure, the recorded chain plus the step-by-step recomputation of {@link DefendedClassifier#lossGradient}.
     */
    static double exactGradientImagesPerSecond(DefendedClassifier defended, NDArray x, int classes,
            BenchTiming timing) {
        int n = (int) x.getShape().get(0);
        float[] hot = new float[n * classes];
        for (int i = 0; i < n; i++) {
            hot[i * classes + i % classes] = 1f;
        }
        NDManager m = x.getManager();
        NDArray onehot = m.create(hot, new Shape(n, classes));
        AtomicLong seed = new AtomicLong();
        try {
            double sec = timing.medianSeconds(m, s -> {
                s.tempAttachAll(x, onehot);
                defended.lossGradient(x, GradientMode.EXACT, seed.incrementAndGet(),
                        z -> z.logSoftmax(1).mul(onehot).sum(new int[] {1}).neg()).gradient().getFloat(0, 0, 0, 0);
            });
            return n / sec;
        } finally {
            onehot.close();
        }
    }

    /**
     * Training steps per second of a fresh model of shape {@code config} at {@code batch}: the core of one
     * {@code DiffusionTraining} step — prompt encoder and UNet forward in training mode, ε-MSE, backward to every
     * parameter, AdamW update. Left out (cheap next to these): drawing the batch and masks in Java, the non-finite
     * check and the EMA. Empty prompts: the context has a fixed length, so its cost does not depend on the words.
     */
    static double trainingStepsPerSecond(DiffusionConfig config, int batch, BenchTiming timing) {
        try (NDManager m = NDManager.newBaseManager()) {
            DiffusionModel model = DiffusionModel.create(config, m, 1);
            AdamW adam = new AdamW(model.net(), m, 0f);
            Shape shape = new Shape(batch, config.channels(), config.size(), config.size());
            NoiseSource noise = new NoiseSource(3);
            NDArray eps = noise.normal(m, shape);
            int[] t = new int[batch];
            for (int i = 0; i < batch; i++) {
                t[i] = noise.nextInt(model.schedule().steps());
            }
            NDArray xt = model.schedule().addNoise(m.randomUniform(-1, 1, shape), t, eps);
            NDArray mask = DiffusionModel.fullMask(xt);
            NDArray masked = m.zeros(shape);
            List<String> prompts = Collections.nCopies(batch, "");
            double sec = timing.medianSeconds(m, s -> {
                s.tempAttachAll(xt, eps, mask, masked);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray ctx = model.context(s, prompts, true);
                    NDArray pred = model.predictNoise(xt, t, mask, masked, ctx, true);
                    gc.backward(pred.sub(eps).square().mean());
                }
                adam.step(s, 1e-4f);
            });
            return 1 / sec;
        }
    }

    /** The MAEP and DISCO lines: images/s of one pass and of one EXACT gradient through purifier and classifier. */
    static void learnedLines(BenchReport report, Map<String, Object> summary, Classifier cls, NDArray x, int batch,
            BenchTiming timing) {
        long[] s = x.getShape().getShape();
        for (Supplier<LearnedPurifier> build : learnedPurifiers((int) s[1], (int) s[2])) {
            try (LearnedPurifier lp = build.get()) {
                double ips = purifyImagesPerSecond(lp, x, timing);
                report.add("pipeline", lp.network().kind(), lp.name() + ", batch " + batch, ips, "images/s",
                        String.format(Locale.ROOT, "%.1f ms per batch; one deterministic pass", 1000 * batch / ips));
                double gips = exactGradientImagesPerSecond(new DefendedClassifier(lp, cls), x, cls.classes(), timing);
                report.add("pipeline", "exact gradient", lp.name() + ", batch " + batch, gips, "images/s",
                        String.format(Locale.ROOT, "%.1f ms per image: CE loss + input gradient through the purifier "
                                + "and %s", 1000 / gips, cls.name()));
                summary.put(lp.network().kind() + "_images_per_second", ips);
            }
        }
    }

    /**
     * The learned purifiers of SPEC §6 — MAEP and DISCO — the shipped model when it is trained, else a randomly
     * initialised one of the shape {@code lustra train maep|disco} trains (speed does not depend on the weights).
     */
    static List<Supplier<LearnedPurifier>> learnedPurifiers(int channels, int size) {
        // suppliers: each network is built inside its caller's try-with-resources, so a failure frees the other
        return List.of(
                () -> learned("maep", Maep.DEFAULT_MODEL, Maep::load, () -> MaepNetwork.create(
                        MaepNetwork.Config.small(channels, size), NDManager.newBaseManager(), 1)),
                () -> learned("disco", Disco.DEFAULT_MODEL, Disco::load, () -> DiscoNetwork.create(
                        DiscoNetwork.Config.small(channels, size), NDManager.newBaseManager(), 1)));
    }

    private static LearnedPurifier learned(String name, String model,
            BiFunction<String, String, LearnedPurifier> load, Supplier<PurifierNetwork> fresh) {
        if (Files.isRegularFile(LustraHome.models().resolve(model).resolve("model-card.json"))) {
            return load.apply(name + " (" + model + ")", model);
        }
        return new LearnedPurifier(name + " (random weights)", fresh.get());
    }

    /** The shipped classifier-resnet, else a randomly initialised one of the same architecture. */
    static Classifier classifier() {
        if (Files.isRegularFile(LustraHome.models().resolve("classifier-resnet/model-card.json"))) {
            return ModelStore.loadClassifier("classifier-resnet");
        }
        ClassifierPresets.Preset p = ClassifierPresets.get("resnet");
        NDManager m = NDManager.newBaseManager();
        try {
            return new NetClassifier("classifier-resnet (random weights)", p.architecture().initialize(m, 1), m,
                    ClassifierPresets.classNames(p.dataset()));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }
}
