package org.lustra.eval.localization;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.lustra.defense.MaskScores;
import org.lustra.defense.diffender.Diffender;
import org.lustra.defense.diffender.PatchLocalizer;
import org.lustra.defense.diffender.Prompt;
import org.lustra.defense.diffender.PromptTuning.PatchedSet;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;

/**
 * DIFFender's localisation (SPEC §4.1) scored against true patch masks over a grid: signal × x̂0 clip × ᾱ × θ, per patch
 * kind, the raw mask M̂ = [Z &gt; θ] (∧ S/(2m) &gt; floor with a floor) and the refined one (blur, dilation, re-binarise) each by mean IoU, precision,
 * recall and masked area; clean images give the share of pixels masked where there is no patch. θ needs no model
 * call (the anomaly map is thresholded again), so the UNet runs once per (signal, clip, ᾱ) over every image of every
 * kind, in chunks of {@code chunkImages}, with the same fixed noise seed for every configuration (paired comparisons).
 */
public final class LocalizationSweep {

    /** The anomaly signal and its prompt_L. */
    public enum Signal {
        /** The paper's manual prompt: prompt_L {@value Diffender#MANUAL_L} against ∅ from the same noise, g 7.5. */
        MP,
        /** The paper's empty prompt: ∅ against ∅ from independent noise (the bare AAP phenomenon). */
        EP,
        /** Tuned prompt_L (from a prompts directory) against ∅ from the same noise, g 7.5. */
        TUNED,
        /** Ours, not the paper's: the one-step reconstruction error |x̂0(∅) − x|. */
        REC;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Signal parse(String word) {
            for (Signal s : values()) {
                if (s.id().equals(word.trim().toLowerCase(Locale.ROOT))) {
                    return s;
                }
            }
            throw new IllegalArgumentException("Unknown localisation signal '" + word + "'; use mp, ep, tuned or rec");
        }

        /** The localiser settings of this signal at level ᾱ, x̂0 clipped or not (other settings: the defaults). */
        public PatchLocalizer.Options options(double alphaBar, boolean clip) {
            PatchLocalizer.Options o = PatchLocalizer.Options.defaults().withAlphaBar(alphaBar).withClipX0(clip);
            return switch (this) {
                case MP, TUNED -> o;
                case EP -> o.withIndependentNoise(true);
                case REC -> o.withSignal(PatchLocalizer.Signal.RECONSTRUCTION);
            };
        }
    }

    /**
     * @param signals which signals
     * @param alphaBars noise levels ᾱ
     * @param thetas z-score thresholds θ
     * @param clips x̂0 clip settings to run (false = SPEC §4.1, unclipped)
     * @param noiseSeed seed of the localisation noise, the same for every configuration
     * @param chunkImages images per UNet call (each gives 2·m rows, m for REC)
     * @param floors absolute floors of the anomaly map ({@link PatchLocalizer.Options#floor}; 0 = the paper's rule)
     */
    public record Config(List<Signal> signals, double[] alphaBars, double[] thetas, boolean[] clips, long noiseSeed,
            int chunkImages, double[] floors) {
        public Config {
            if (signals.isEmpty() || alphaBars.length == 0 || thetas.length == 0 || clips.length == 0
                    || chunkImages < 1 || floors.length == 0) {
                throw new IllegalArgumentException("A localisation sweep needs at least one signal, ᾱ, θ, floor and "
                        + "clip setting and chunkImages ≥ 1 (got " + chunkImages + ")");
            }
            for (double f : floors) {
                if (!(f >= 0 && f < 1)) {
                    throw new IllegalArgumentException("Invalid floor " + f + " (--floor takes values 0 ≤ floor < 1, in "
                            + "intensity units; 0 = off)");
                }
            }
        }

        /** Without an absolute floor. */
        public Config(List<Signal> signals, double[] alphaBars, double[] thetas, boolean[] clips, long noiseSeed,
                int chunkImages) {
            this(signals, alphaBars, thetas, clips, noiseSeed, chunkImages, new double[] {0});
        }

        /** The issue-11 grid: MP, EP, REC (TUNED only with prompts) × ᾱ {0.3, 0.5, 0.7} × θ {1.5, 2, 2.5}, unclipped. */
        public static Config issueGrid(long noiseSeed) {
            return new Config(List.of(Signal.MP, Signal.EP, Signal.REC), new double[] {0.3, 0.5, 0.7},
                    new double[] {1.5, 2.0, 2.5}, new boolean[] {false}, noiseSeed, 64);
        }
    }

    /** Mean scores of one mask over the images of one kind; IoU, precision and recall are null on clean images. */
    public record Scores(Double iou, Double precision, Double recall, double maskedFraction) {}

    /** One cell of the grid. */
    public record Row(String signal, boolean clipX0, double alphaBar, int timestep, double theta, double floor,
            String kind, int images, Scores raw, Scores refined) {}

    /** Name of the rows scored on the clean images. */
    public static final String CLEAN = "clean";

    private final DiffusionModel model;
    private final Config config;

    public LocalizationSweep(DiffusionModel model, Config config) {
        this.model = model;
        this.config = config;
    }

    /**
     * Scores every configuration on {@code sets} (kind → patched images with true masks) and on {@code clean}
     * (flat N·C·H·W, may be empty). {@code tunedL} is required when the config asks for TUNED.
     */
    public List<Row> run(Map<String, PatchedSet> sets, float[] clean, Prompt tunedL) {
        if (config.signals().contains(Signal.TUNED) && tunedL == null) {
            throw new IllegalArgumentException("The TUNED signal needs tuned prompts; give a prompts directory or "
                    + "leave 'tuned' out of the signals");
        }
        int c = model.config().channels();
        int size = model.config().size();
        int d = c * size * size;
        List<String> kinds = new ArrayList<>(sets.keySet());
        List<float[]> truths = new ArrayList<>();
        int total = clean.length / d;
        for (String k : kinds) {
            total += sets.get(k).size();
            truths.add(sets.get(k).masks());
        }
        float[] all = new float[total * d];
        int at = 0;
        for (String k : kinds) {
            float[] a = sets.get(k).adversarial();
            System.arraycopy(a, 0, all, at, a.length);
            at += a.length;
        }
        System.arraycopy(clean, 0, all, at, clean.length);
        List<Row> rows = new ArrayList<>();
        for (Signal signal : config.signals()) {
            Prompt prompt = switch (signal) {
                case MP -> Prompt.text(Diffender.MANUAL_L);
                case EP, REC -> Prompt.empty();
                case TUNED -> tunedL;
            };
            for (boolean clip : config.clips()) {
                for (double abar : config.alphaBars()) {
                    PatchLocalizer loc = new PatchLocalizer(model, signal.options(abar, clip));
                    float[] anomaly = anomaly(loc, prompt, all, total, c, size);
                    for (double theta : config.thetas()) {
                        for (double floor : config.floors()) {
                            float[][] m = masks(anomaly, total, size, theta, floor, loc.options().repetitions());
                            int from = 0;
                            for (int k = 0; k < kinds.size(); k++) {
                                int n = sets.get(kinds.get(k)).size();
                                rows.add(new Row(signal.id(), clip, abar, loc.timestep(), theta, floor, kinds.get(k),
                                        n, score(m[0], from, truths.get(k), n, size), score(m[1], from, truths.get(k),
                                                n, size)));
                                from += n;
                            }
                            int n = total - from;
                            if (n > 0) {
                                rows.add(new Row(signal.id(), clip, abar, loc.timestep(), theta, floor, CLEAN, n,
                                        score(m[0], from, null, n, size), score(m[1], from, null, n, size)));
                            }
                        }
                    }
                }
            }
        }
        return rows;
    }

    /** The anomaly maps S (total·H·W) of all images, one UNet call per chunk, noise from the config's fixed seed. */
    private float[] anomaly(PatchLocalizer loc, Prompt prompt, float[] all, int total, int c, int size) {
        NoiseSource noise = new NoiseSource(config.noiseSeed());
        int hw = size * size;
        float[] out = new float[total * hw];
        for (int from = 0; from < total; from += config.chunkImages()) {
            int n = Math.min(config.chunkImages(), total - from);
            try (NDManager m = NDManager.newBaseManager()) {
                float[] part = java.util.Arrays.copyOfRange(all, from * c * hw, (from + n) * c * hw);
                NDArray x = m.create(part, new Shape(n, c, size, size));
                float[] s = loc.localize(x, prompt, noise).anomaly().toFloatArray();
                System.arraycopy(s, 0, out, from * hw, s.length);
            }
        }
        return out;
    }

    /** {raw, refined} masks of all images at θ and floor (m repetitions). */
    private static float[][] masks(float[] anomaly, int total, int size, double theta, double floor, int reps) {
        try (NDManager m = NDManager.newBaseManager()) {
            PatchLocalizer.Localization l = PatchLocalizer.masks(m.create(anomaly, new Shape(total, 1, size, size)),
                    theta, floor, reps, true);
            return new float[][] {l.rawMask().toFloatArray(), l.mask().toFloatArray()};
        }
    }

    /**
     * Mean IoU / precision / recall against {@code truth} (null: clean images; every patched image's true mask is set,
     * so all of them are scored) and the share of all pixels masked.
     */
    static Scores score(float[] mask, int from, float[] truth, int n, int size) {
        int hw = size * size;
        MaskScores s = new MaskScores();
        for (int i = 0; i < n; i++) {
            s.add(mask, (from + i) * hw, truth, i * hw, hw);
        }
        return truth == null ? new Scores(null, null, null, s.pooledMaskedShare())
                : new Scores(s.iou(), s.precision(), s.recall(), s.pooledMaskedShare());
    }

    /** Settings and grid as a map for the report's header. */
    public Map<String, Object> describe() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("signals", config.signals().stream().map(Signal::id).toList());
        out.put("alphaBars", config.alphaBars());
        out.put("thetas", config.thetas());
        out.put("floors", config.floors());
        out.put("clipX0", config.clips());
        out.put("noiseSeed", config.noiseSeed());
        out.put("chunkImages", config.chunkImages());
        PatchLocalizer.Options d = PatchLocalizer.Options.defaults();
        out.put("guidance", d.guidance());
        out.put("repetitions", d.repetitions());
        out.put("manualPromptL", Diffender.MANUAL_L);
        return out;
    }
}
