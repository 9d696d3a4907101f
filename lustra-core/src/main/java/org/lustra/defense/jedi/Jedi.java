package org.lustra.defense.jedi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.lustra.defense.DetectingPurifier;
import org.lustra.defense.GradientMode;
import org.lustra.defense.classic.Morphology;
import org.lustra.defense.dw.Inpainter;
import org.lustra.nn.Scalars;

/**
 * Jedi (B. Tarchoun, A. Ben Khalifa, M. A. Mahjoub, N. Abu-Ghazaleh, I. Alouani, "Jedi: Entropy-based Localization and
 * Removal of Adversarial Patches", CVPR 2023), a baseline of DIFFender's Table 1 (seed 000 §4.1):
 * <ol>
 *   <li>Entropy map: the local entropy of the grey image in (2r+1)² windows ({@link EntropyMap}).</li>
 *   <li>High-entropy kernels: windows whose entropy exceeds θ·log₂(min(bins, (2r+1)²)), a share of the most a window
 *       can reach ({@link EntropyMap#kernels}).</li>
 *   <li>Mask, two variants:
 *     <ul>
 *       <li><b>autoencoder</b> (the paper's): the sparse kernel-centre map goes through the {@link JediAutoencoder},
 *           trained on synthetic (kernel map, pasted mask) pairs ({@link JediTraining}); its probability above τ,
 *           then {@code dilate} pixels of margin, is the mask. r, bins and θ are the autoencoder's (it learnt maps
 *           made with them).</li>
 *       <li><b>morphology</b> (the ablation, and the fallback while no autoencoder is trained): an opening of the
 *           kernel centres (drops isolated high-entropy windows of natural texture), a closing (joins the centres of
 *           one patch), the union of the kept windows (a dilation by r: a flagged window marks all its pixels), then
 *           {@code dilate} pixels of margin.</li>
 *     </ul></li>
 *   <li>Removal: Telea inpainting of the mask, as in the paper.</li>
 * </ol>
 * Pixels outside the mask are returned bit for bit.
 *
 * <p>What differs from the paper: Jedi sets its entropy threshold from the entropy statistics of a dataset; here θ and
 * τ are chosen on {@code data/validation} by {@code lustra calibrate jedi} (placeholders until then). Our autoencoder
 * is small (28×28 inputs) and trained on our synthetic patches, not the paper's. The seed reads Jedi's weakness
 * (robust against AdvP, not LaVAN) as the autoencoder's; the two variants make that reading testable.
 *
 * <p>Gradients: BPDA (identity backward, Athalye et al., 2018) and MASKED ({@link #purifyMaskedSurrogate}). The entropy
 * of a quantised histogram is piecewise constant in x (zero derivative almost everywhere), so the detector is opened to
 * attackers (issue 16, as a {@link DetectingPurifier}) through a relaxation: {@link #softDetection} is the mask
 * pipeline — kernel map, autoencoder probability (or morphology), margin — whose forward is the hard one (the kernel
 * map is the hard map exactly, so the soft detection is the defence's own probability map) and whose backward passes
 * the kernel threshold as the derivative of σ((H̃ − cut)/{@value #KERNEL_SLOPE} bit), H̃ the soft-binned entropy of
 * {@link SoftEntropy}; the autoencoder, and the max/min-pools of the morphology variant and of the margin, are
 * differentiated exactly. So an attacker learns which patch pixels to move to lower which windows' entropy, weighted
 * by how much those windows matter to the mask.
 */
public final class Jedi implements DetectingPurifier, AutoCloseable {

    /**
     * Settings; validated. All are placeholders until chosen on {@code data/validation}.
     *
     * @param radius window radius r (window (2r+1)²); morphology variant only
     * @param bins histogram bins over [0, 1]; morphology variant only
     * @param theta share of the maximum window entropy above which a window is a high-entropy kernel; morphology only
     * @param open openings of the kernel-centre map; morphology only
     * @param close closings of the kernel-centre map; morphology only
     * @param dilate extra dilations of the final mask
     * @param radiusTelea Telea's neighbourhood radius
     * @param tau threshold on the autoencoder's probability; autoencoder variant only
     */
    public record Options(int radius, int bins, double theta, int open, int close, int dilate, int radiusTelea,
            double tau) {
        public static final String FORM = "jedi[:NAME|:morph][:rN][:binsN][:thetaX][:openN][:closeN][:dilateN]"
                + "[:tauX][:teleaR]";

        public Options {
            if (radius < 1 || radius > 32 || bins < 2 || bins > 256 || !(theta > 0 && theta <= 1) || open < 0
                    || open > 5 || close < 0 || close > 5 || dilate < 0 || dilate > 10 || radiusTelea < 1
                    || radiusTelea > 64 || !(tau > 0 && tau < 1)) {
                throw new IllegalArgumentException("Invalid Jedi options: r " + radius + " (1..32), bins " + bins
                        + " (2..256), theta " + theta + " (0 < theta <= 1), open " + open + " (0..5), close " + close
                        + " (0..5), dilate " + dilate + " (0..10), Telea radius " + radiusTelea + " (1..64), tau "
                        + tau + " (0 < tau < 1)");
            }
        }

        /** These options with the autoencoder's probability threshold {@code v}. */
        public Options withTau(double v) {
            return new Options(radius, bins, theta, open, close, dilate, radiusTelea, v);
        }

        /** These options with entropy threshold {@code v}. */
        public Options withTheta(double v) {
            return new Options(radius, bins, v, open, close, dilate, radiusTelea, tau);
        }

        /**
         * Placeholders for 28×28 images: 5×5 windows, 16 bins (25 pixels of uniform noise give ≈ 3.5 of the 4 bits on
         * average, by the plug-in estimator's known downward bias; a smooth garment edge spans few bins), θ = 0.7, one
         * opening, one closing, no extra margin, Telea radius 3; τ = 0.5 on the autoencoder's probability.
         */
        public static Options defaults() {
            return new Options(2, 16, 0.7, 1, 1, 0, 3, 0.5);
        }

        /** True for a spec token that is an option rather than a model name or {@code morph}. */
        public static boolean isOption(String token) {
            return token.matches("r\\d+|bins\\d+|open\\d+|close\\d+|dilate\\d+|telea\\d+|theta.*|tau.*");
        }

        /**
         * Parses the option tokens of a spec {@code jedi:…} ({@link #FORM}; the model name and {@code morph} are the
         * spec's business); throws IllegalArgumentException naming the bad option.
         */
        public static Options parse(String... tokens) {
            Options d = defaults();
            int[] v = {d.radius(), d.bins(), d.open(), d.close(), d.dilate(), d.radiusTelea()};
            double theta = d.theta();
            double tau = d.tau();
            String[] prefixes = {"r", "bins", "open", "close", "dilate", "telea"};
            for (String o : tokens) {
                if (o.startsWith("theta")) {
                    theta = Double.parseDouble(o.substring(5));
                    continue;
                }
                if (o.startsWith("tau")) {
                    tau = Double.parseDouble(o.substring(3));
                    continue;
                }
                int k = 0;
                while (k < prefixes.length && !o.matches(prefixes[k] + "\\d+")) {
                    k++;
                }
                if (k == prefixes.length) {
                    throw new IllegalArgumentException("unknown option " + (o.isEmpty() ? "''" : o));
                }
                v[k] = Integer.parseInt(o.substring(prefixes[k].length()));
            }
            return new Options(v[0], v[1], theta, v[2], v[3], v[4], v[5], tau);
        }
    }

    private final Options options;
    private final Inpainter inpainter;
    private final JediAutoencoder autoencoder;

    /** The morphology variant. */
    public Jedi(Options options) {
        this(options, null);
    }

    /** The autoencoder variant (morphology when {@code autoencoder} is null); takes ownership of the autoencoder. */
    public Jedi(Options options, JediAutoencoder autoencoder) {
        this.options = options;
        this.inpainter = Inpainter.telea(options.radiusTelea());
        this.autoencoder = autoencoder;
    }

    /** Whether the mask comes from the autoencoder (else from morphology). */
    public boolean usesAutoencoder() {
        return autoencoder != null;
    }

    public Options options() {
        return options;
    }

    @Override
    public String name() {
        if (autoencoder != null) {
            JediAutoencoder.Config c = autoencoder.config();
            return String.format(Locale.ROOT, "jedi(autoencoder, r=%d, bins=%d, theta=%.2f, tau=%.2f, dilate=%d, %s)",
                    c.radius(), c.bins(), c.theta(), options.tau(), options.dilate(), inpainter.name());
        }
        return String.format(Locale.ROOT, "jedi(morphology, r=%d, bins=%d, theta=%.2f, open=%d, close=%d, dilate=%d, "
                + "%s)", options.radius(), options.bins(), options.theta(), options.open(), options.close(),
                options.dilate(), inpainter.name());
    }

    @Override
    public Set<GradientMode> gradientModes() {
        return EnumSet.of(GradientMode.BPDA, GradientMode.MASKED);
    }

    @Override
    public boolean randomized() {
        return false;
    }

    @Override
    public NDArray purify(NDArray x, long seed) {
        return purifyDroppingMasks(x, seed);
    }

    /**
     * Purifies without gradients. The anomaly map is the autoencoder's probability, or (morphology) the entropy map over
     * its maximum attainable value.
     */
    @Override
    public Masked purifyMasked(NDArray x, long seed) {
        NDManager parent = x.getManager();
        Shape s = x.getShape();
        int n = (int) s.get(0);
        int c = (int) s.get(1);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        float[] all;
        try (NDArray detached = x.stopGradient()) {
            all = detached.toFloatArray();
        }
        float[][] maskAndAnomaly = masks(all, n, c, h, w, parent);
        try (NDManager scope = parent.newSubManager()) {
            Shape maskShape = new Shape(n, 1, h, w);
            NDArray in = scope.create(all, s);
            NDArray maskArr = scope.create(maskAndAnomaly[0], maskShape);
            NDArray out = Inpainter.composite(in, maskArr, inpainter.inpaint(in, maskArr, seed));
            out.attach(parent);
            maskArr.attach(parent);
            return new Masked(out, maskArr, parent.create(maskAndAnomaly[1], maskShape));
        }
    }

    /**
     * Slope (bits) of the soft kernel threshold σ((H̃ − cut)/s) whose derivative stands in for the hard one: wide enough
     * that a window well above the cut (a noise patch at ≈ 3.5 of 4 bits against the 2.8-bit cut) still passes a
     * gradient (σ' at 1.4 is 0.15, at 0 it is 0.25), so the attacker is pushed off every window the mask rests on.
     */
    public static final double KERNEL_SLOPE = 0.5;

    /** The final mask {@code purify(x, seed)} replaces (N, 1, H, W); no gradient; owned by x's manager. */
    @Override
    public NDArray detection(NDArray x, long seed) {
        Shape s = x.getShape();
        float[] all;
        try (NDArray detached = x.stopGradient()) {
            all = detached.toFloatArray();
        }
        float[] mask = masks(all, (int) s.get(0), (int) s.get(1), (int) s.get(2), (int) s.get(3), x.getManager())[0];
        return x.getManager().create(mask, new Shape(s.get(0), 1, s.get(2), s.get(3)));
    }

    /**
     * The mask pipeline relaxed as the class comment says (N, 1, H, W): value the autoencoder's probability widened by
     * the margin (morphology: the final 0/1 mask), differentiable in x. Owned by x's manager.
     */
    @Override
    public NDArray softDetection(NDArray x, long seed) {
        try (NDManager scope = x.getManager().newSubManager()) {
            scope.tempAttachAll(x);
            float[] all;
            try (NDArray detached = x.stopGradient()) {
                all = detached.toFloatArray();
            }
            return scope.ret(relaxed(x, all));
        }
    }

    /**
     * Gradient mode MASKED: out = x·(1 − M̃) + sg(R)·M̃ with M̃ = P + sg(M − P), P the {@link #softDetection}, M the
     * final mask and R Telea's fill. Equal to {@code purify(x, seed)}; no identity term for the replaced pixels (see
     * {@link GradientMode#MASKED}). Owned by x's manager.
     */
    @Override
    public NDArray purifyMaskedSurrogate(NDArray x, long seed) {
        Shape s = x.getShape();
        try (NDManager scope = x.getManager().newSubManager()) {
            scope.tempAttachAll(x);
            float[] all;
            try (NDArray detached = x.stopGradient()) {
                all = detached.toFloatArray();
            }
            float[] m = masks(all, (int) s.get(0), (int) s.get(1), (int) s.get(2), (int) s.get(3), scope)[0];
            NDArray hard = Scalars.owned(scope, m, new Shape(s.get(0), 1, s.get(2), s.get(3)));
            NDArray soft = relaxed(x, all);
            NDArray mask = soft.add(hard.sub(soft).stopGradient()); // value: hard; ∂/∂soft = 1
            // an engine-owned copy: the fill is saved for the backward pass and Telea's array is Java-backed
            NDArray fill = inpainter.inpaint(scope.create(all, s), hard, seed).duplicate();
            return scope.ret(Inpainter.composite(x, mask, fill));
        }
    }

    /** The entropy settings the mask is made with: the autoencoder's (it learnt maps made with them), else Jedi's. */
    private record EntropySettings(int radius, int bins, double theta) {}

    private EntropySettings entropySettings() {
        if (autoencoder != null) {
            JediAutoencoder.Config c = autoencoder.config();
            return new EntropySettings(c.radius(), c.bins(), c.theta());
        }
        return new EntropySettings(options.radius(), options.bins(), options.theta());
    }

    /** The relaxed mask pipeline of x (whose values are {@code all}), in x's manager. */
    private NDArray relaxed(NDArray x, float[] all) {
        Shape s = x.getShape();
        int n = (int) s.get(0);
        int c = (int) s.get(1);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        EntropySettings e = entropySettings();
        NDManager m = x.getManager();
        float[] hardKernels = autoencoder != null ? autoencoder.kernelMaps(all, n, c) : kernelMaps(all, n, c, h, w, e);
        NDArray kh = Scalars.owned(m, hardKernels, new Shape(n, 1, h, w));
        NDArray kt = SoftEntropy.kernels(SoftEntropy.bits(SoftEntropy.grey(x), e.radius(), e.bins(),
                SoftEntropy.HALF_WIDTH), e.radius(), e.bins(), e.theta(), KERNEL_SLOPE);
        NDArray k = kh.add(kt.sub(kt.stopGradient())); // value: the hard kernel map; derivative: the soft one's
        if (autoencoder != null) {
            if (h != autoencoder.config().size() || w != h) {
                throw new IllegalArgumentException("The Jedi autoencoder takes " + autoencoder.config().size() + "×"
                        + autoencoder.config().size() + " images, got " + h + "×" + w);
            }
            NDArray prob = Activation.sigmoid(autoencoder.logits(new ParameterStore(m, false), k, false));
            return Morphology.dilate(prob, options.dilate());
        }
        NDArray centres = Morphology.close(Morphology.open(k, options.open()), options.close());
        return Morphology.dilate(centres, options.radius() + options.dilate());
    }

    /** Hard kernel maps (n·h·w, 0/1) with settings e, for the morphology variant. */
    private static float[] kernelMaps(float[] all, int n, int c, int h, int w, EntropySettings e) {
        float[] out = new float[n * h * w];
        for (int i = 0; i < n; i++) {
            float[] grey = EntropyMap.grey(Arrays.copyOfRange(all, i * c * h * w, (i + 1) * c * h * w), c, h, w);
            boolean[] k = EntropyMap.kernels(EntropyMap.compute(grey, h, w, e.radius(), e.bins()), e.radius(),
                    e.bins(), e.theta());
            for (int p = 0; p < h * w; p++) {
                out[i * h * w + p] = k[p] ? 1f : 0f;
            }
        }
        return out;
    }

    /** Masks and anomaly maps (n·h·w each) of whichever variant this is. */
    private float[][] masks(float[] all, int n, int c, int h, int w, NDManager parent) {
        return autoencoder != null ? autoencoderMasks(all, n, c, h, w, parent) : morphologyMasks(all, n, c, h, w);
    }

    /** Masks and anomaly maps (n·h·w each) of the morphology variant. */
    private float[][] morphologyMasks(float[] all, int n, int c, int h, int w) {
        float[] mask = new float[n * h * w];
        float[] anomaly = new float[n * h * w];
        double max = EntropyMap.maxBits(options.radius(), options.bins());
        for (int i = 0; i < n; i++) {
            float[] grey = EntropyMap.grey(Arrays.copyOfRange(all, i * c * h * w, (i + 1) * c * h * w), c, h, w);
            float[] bits = EntropyMap.compute(grey, h, w, options.radius(), options.bins());
            boolean[] m = mask(bits, h, w, options);
            for (int p = 0; p < h * w; p++) {
                mask[i * h * w + p] = m[p] ? 1f : 0f;
                anomaly[i * h * w + p] = (float) (bits[p] / max);
            }
        }
        return new float[][] {mask, anomaly};
    }

    /** Masks and anomaly maps (n·h·w each) of the autoencoder variant: one batched pass for all n kernel maps. */
    private float[][] autoencoderMasks(float[] all, int n, int c, int h, int w, NDManager parent) {
        if (h != autoencoder.config().size() || w != h) {
            throw new IllegalArgumentException("The Jedi autoencoder takes " + autoencoder.config().size() + "×"
                    + autoencoder.config().size() + " images, got " + h + "×" + w);
        }
        float[] prob;
        try (NDManager scope = parent.newSubManager()) {
            NDArray maps = scope.create(autoencoder.kernelMaps(all, n, c), new Shape(n, 1, h, w));
            prob = Activation.sigmoid(autoencoder.logits(new ParameterStore(scope, false), maps, false))
                    .toFloatArray();
        }
        float[] mask = new float[n * h * w];
        for (int i = 0; i < n; i++) {
            boolean[] m = new boolean[h * w];
            for (int p = 0; p < h * w; p++) {
                m[p] = prob[i * h * w + p] > options.tau();
            }
            m = Morphology.dilate(m, h, w, options.dilate());
            for (int p = 0; p < h * w; p++) {
                mask[i * h * w + p] = m[p] ? 1f : 0f;
            }
        }
        return new float[][] {mask, prob};
    }

    /** Jedi's mask of one entropy map (H×W, bits): kernel threshold, opening, closing, kernel union, margin. */
    static boolean[] mask(float[] bits, int h, int w, Options o) {
        boolean[] centres = EntropyMap.kernels(bits, o.radius(), o.bins(), o.theta());
        centres = Morphology.close(Morphology.open(centres, h, w, o.open()), h, w, o.close());
        // a dilation by r with the 3×3 element is the union of the (2r+1)² windows around the kept centres
        return Morphology.dilate(centres, h, w, o.radius() + o.dilate());
    }

    /** Frees the autoencoder's weights, if any. */
    @Override
    public void close() {
        if (autoencoder != null) {
            autoencoder.close();
        }
    }
}
