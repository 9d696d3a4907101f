package org.lustra.app;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.DiffenderSpec;
import org.lustra.defense.MaskingPurifier;
import org.lustra.defense.Purifier;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.model.Classifier;
import org.lustra.model.Classifiers;
import org.lustra.nn.NativeWarnings;
import org.lustra.util.LustraException;

/**
 * A classifier and the defences in front of it, loaded once and shared by every caller (the CLI's batches, the
 * service's workers). Inputs are flat float arrays (N·C·H·W in [0, 1]) at the classifier's input shape; results are
 * plain Java values, so no NDArray outlives a call. Safe to use from several threads: each call has its own
 * NDManager, and purifiers keep no state between calls.
 */
public final class Workbench implements AutoCloseable {
    /** Purifiers kept built; specs past this many are built per call (a spec is arbitrary user text). */
    private static final int MAX_CACHED = 32;

    private final Classifier classifier;
    private final DefenseFactory defenses;
    private final Map<String, Purifier> purifiers = new ConcurrentHashMap<>();

    private Workbench(Classifier classifier, DefenseFactory defenses) {
        this.classifier = classifier;
        this.defenses = defenses;
    }

    /**
     * Loads classifier {@code name} (a shipped model, a model folder or a TorchScript file, see {@link Classifiers});
     * the diffusion model loads on first need.
     */
    public static Workbench open(String name) {
        return open(name, DiffusionModel.DEFAULT);
    }

    /** As {@link #open(String)}, the diffusion defences on {@code diffusionModel} (a name under models/ or a folder). */
    public static Workbench open(String name, String diffusionModel) {
        NativeWarnings.quiet();
        DefenseFactory defenses = new DefenseFactory(diffusionModel);
        return new Workbench(Classifiers.open(name), defenses);
    }

    public Classifier classifier() {
        return classifier;
    }

    public int channels() {
        return classifier.channels();
    }

    public int size() {
        return classifier.size();
    }

    /** Values per image: C·H·W. */
    public int imageSize() {
        return channels() * size() * size();
    }

    /** The purifier of {@code spec}, built once (loading the diffusion model if it needs it) and reused. */
    public Purifier purifier(DefenseSpec spec) {
        Purifier p = purifiers.get(spec.text());
        if (p != null) {
            return p;
        }
        if (purifiers.size() >= MAX_CACHED) {
            return defenses.create(spec, classifier);
        }
        return purifiers.computeIfAbsent(spec.text(), k -> defenses.create(spec, classifier));
    }

    /**
     * The localisation of {@code spec} alone: for DIFFender the same purifier with restoration off (same noise, so the
     * same mask for the same seed, without the DDIM inpainting); any other purifier that reports a mask as it is.
     */
    public MaskingPurifier localizer(DefenseSpec spec) {
        Purifier p = spec.asDiffender()
                .map(d -> purifier(new DiffenderSpec(d.text() + ":nr", d.options().withRestore(false),
                        d.tunedPrompts())))
                .orElseGet(() -> purifier(spec));
        if (p instanceof MaskingPurifier m) {
            return m;
        }
        throw new LustraException("Defence '" + spec.text() + "' does not locate a region; localisation needs a "
                + "defence with a mask, e.g. diffender or diffender:ep:rec:abar0.7.");
    }

    /** Class probabilities of {@code n} images, {@code top} classes listed per image. */
    public List<Prediction> classify(float[] pixels, int n, int top) {
        noGradOnThisThread();
        try (NDManager m = NDManager.newBaseManager()) {
            return predictions(probabilities(batch(m, pixels, n)), n, top);
        }
    }

    /** Timings of one {@link #purify} call, in milliseconds. */
    public record Timings(double purifyMillis, double classifyMillis) {}

    /** The purified images of one call with their timings. */
    public record Batch(List<Purification> images, Timings timings) {}

    /**
     * Purifies {@code n} images with {@code purifier} (all noise drawn from {@code seed}) and classifies them before
     * and after; masks and anomaly maps come along when the purifier reports them.
     */
    public Batch purify(Purifier purifier, float[] pixels, int n, long seed, int top) {
        noGradOnThisThread();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = batch(m, pixels, n);
            long t0 = System.nanoTime();
            NDArray purified;
            float[] masks = null;
            float[] anomaly = null;
            if (purifier instanceof MaskingPurifier mp) {
                MaskingPurifier.Masked r = mp.purifyMasked(x, seed);
                purified = r.purified();
                masks = r.mask().toFloatArray();
                anomaly = r.anomaly().toFloatArray();
            } else {
                purified = purifier.purify(x, seed);
            }
            float[] px = purified.toFloatArray();
            long t1 = System.nanoTime();
            List<Prediction> before = predictions(probabilities(x), n, top);
            List<Prediction> after = predictions(probabilities(purified), n, top);
            long t2 = System.nanoTime();
            List<Purification> out = new ArrayList<>(n);
            int d = imageSize();
            int hw = size() * size();
            for (int i = 0; i < n; i++) {
                float[] mask = masks == null ? null : Arrays.copyOfRange(masks, i * hw, (i + 1) * hw);
                float[] an = anomaly == null ? null : scaled(Arrays.copyOfRange(anomaly, i * hw, (i + 1) * hw));
                out.add(new Purification(before.get(i), after.get(i), Arrays.copyOfRange(px, i * d, (i + 1) * d), mask,
                        an, mask == null ? null : Prediction.round(fraction(mask))));
            }
            return new Batch(out, new Timings((t1 - t0) / 1e6, (t2 - t1) / 1e6));
        }
    }

    private NDArray batch(NDManager m, float[] pixels, int n) {
        if (pixels.length != n * imageSize()) {
            throw new IllegalArgumentException("Invalid pixel count " + pixels.length + " for " + n + " images of "
                    + channels() + "x" + size() + "x" + size());
        }
        return m.create(pixels, new Shape(n, channels(), size(), size()));
    }

    private float[] probabilities(NDArray x) {
        return classifier.logits(x).softmax(1).toFloatArray();
    }

    private List<Prediction> predictions(float[] probs, int n, int top) {
        List<Prediction> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(Prediction.of(probs, i, classifier.classNames(), top));
        }
        return out;
    }

    /** Divides by the maximum, for display (the raw scale depends on the signal and the noise level). */
    private static float[] scaled(float[] a) {
        float max = 1e-12f;
        for (float v : a) {
            max = Math.max(max, v);
        }
        for (int j = 0; j < a.length; j++) {
            a[j] /= max;
        }
        return a;
    }

    private static double fraction(float[] mask) {
        int area = 0;
        for (float v : mask) {
            area += v > 0.5f ? 1 : 0;
        }
        return (double) area / mask.length;
    }

    /**
     * PyTorch's grad mode is per thread and new threads start with it on (DJL turns it off only on the thread that
     * loaded the engine): without this, a worker thread's forward passes record graphs and leak.
     */
    public static void noGradOnThisThread() {
        JniUtils.setGradMode(false);
    }

    /** Closes the classifier and the diffusion model; purifiers handed out must not be used afterwards. */
    @Override
    public void close() {
        purifiers.clear();
        try {
            defenses.close();
        } finally {
            classifier.close();
        }
    }
}
