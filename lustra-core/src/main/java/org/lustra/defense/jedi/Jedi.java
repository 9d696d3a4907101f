package org.lustra.defense.jedi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.lustra.defense.GradientMode;
import org.lustra.defense.MaskingPurifier;
import org.lustra.defense.classic.Morphology;
import org.lustra.defense.dw.Inpainter;

/**
 * Jedi (B. Tarchoun, A. Ben Khalifa, M. A. Mahjoub, N. Abu-Ghazaleh, I. Alouani, "Jedi: Entropy-based Localization and
 * Removal of Adversarial Patches", CVPR 2023), a baseline of DIFFender's Table 1 (seed 000 §4.1):
 * <ol>
 *   <li>Entropy map: the local entropy of the grey image in (2r+1)² windows ({@link EntropyMap}).</li>
 *   <li>High-entropy kernels: windows whose entropy exceeds θ·log₂(min(bins, (2r+1)²)), a share of the most a window
 *       can reach, so one θ serves every window size and bin count.</li>
 *   <li>Mask: an opening of the kernel centres (drops isolated high-entropy windows of natural texture), a closing
 *       (joins the centres of one patch), then the union of the kept windows (a dilation by r: a flagged window marks
 *       all its pixels, as Jedi's kernels do), then {@code dilate} pixels of margin.</li>
 *   <li>Removal: Telea inpainting of the mask, as in the paper.</li>
 * </ol>
 * Pixels outside the mask are returned bit for bit.
 *
 * <p>What differs from the paper: Jedi completes the sparse high-entropy map into a patch-shaped mask with an
 * autoencoder trained on synthetic masks, and sets its entropy threshold from the entropy statistics of a dataset.
 * Here the autoencoder is replaced by fixed morphology (opening, closing, kernel union), and θ is one number to be
 * chosen on {@code data/validation}; the defaults are placeholders, not measured. The seed reads Jedi's weakness
 * (robust against AdvP, not LaVAN) as the autoencoder's; with morphology in its place that reading cannot be tested
 * here.
 *
 * <p>Gradients: BPDA only. The entropy of a quantised histogram is piecewise constant in x (zero derivative almost
 * everywhere), so a straight-through estimator at the threshold would pass a zero, not a signal; with the mask fixed,
 * Telea reads no pixel inside it. Identity backward (Athalye et al., 2018) is the adaptive attack.
 */
public final class Jedi implements MaskingPurifier {

    /**
     * Settings; validated. All are placeholders until chosen on {@code data/validation}.
     *
     * @param radius window radius r (window (2r+1)²)
     * @param bins histogram bins over [0, 1]
     * @param theta share of the maximum window entropy above which a window is a high-entropy kernel
     * @param open openings of the kernel-centre map
     * @param close closings of the kernel-centre map
     * @param dilate extra dilations of the final mask
     * @param radiusTelea Telea's neighbourhood radius
     */
    public record Options(int radius, int bins, double theta, int open, int close, int dilate, int radiusTelea) {
        public static final String FORM = "jedi[:rN][:binsN][:thetaX][:openN][:closeN][:dilateN][:teleaR]";

        public Options {
            if (radius < 1 || radius > 32 || bins < 2 || bins > 256 || !(theta > 0 && theta <= 1) || open < 0
                    || open > 5 || close < 0 || close > 5 || dilate < 0 || dilate > 10 || radiusTelea < 1
                    || radiusTelea > 64) {
                throw new IllegalArgumentException("Invalid Jedi options: r " + radius + " (1..32), bins " + bins
                        + " (2..256), theta " + theta + " (0 < theta <= 1), open " + open + " (0..5), close " + close
                        + " (0..5), dilate " + dilate + " (0..10), Telea radius " + radiusTelea + " (1..64)");
            }
        }

        /**
         * Placeholders for 28×28 images: 5×5 windows, 16 bins (25 pixels of uniform noise give ≈ 3.5 of the 4 bits on
         * average, by the plug-in estimator's known downward bias; a smooth garment edge spans few bins), θ = 0.7, one
         * opening, one closing, no extra margin, Telea radius 3.
         */
        public static Options defaults() {
            return new Options(2, 16, 0.7, 1, 1, 0, 3);
        }

        /** Parses a spec {@code jedi:…} ({@link #FORM}); throws IllegalArgumentException naming the bad option. */
        public static Options parse(String spec) {
            String[] p = spec.split(":", -1);
            if (!p[0].equals("jedi")) {
                throw new IllegalArgumentException("not a Jedi spec: " + spec);
            }
            Options d = defaults();
            int[] v = {d.radius(), d.bins(), d.open(), d.close(), d.dilate(), d.radiusTelea()};
            double theta = d.theta();
            String[] prefixes = {"r", "bins", "open", "close", "dilate", "telea"};
            for (int i = 1; i < p.length; i++) {
                String o = p[i];
                if (o.startsWith("theta")) {
                    theta = Double.parseDouble(o.substring(5));
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
            return new Options(v[0], v[1], theta, v[2], v[3], v[4], v[5]);
        }
    }

    private final Options options;
    private final Inpainter inpainter;

    public Jedi(Options options) {
        this.options = options;
        this.inpainter = Inpainter.telea(options.radiusTelea());
    }

    public Options options() {
        return options;
    }

    @Override
    public String name() {
        return String.format(Locale.ROOT, "jedi(r=%d, bins=%d, theta=%.2f, open=%d, close=%d, dilate=%d, %s)",
                options.radius(), options.bins(), options.theta(), options.open(), options.close(), options.dilate(),
                inpainter.name());
    }

    @Override
    public Set<GradientMode> gradientModes() {
        return EnumSet.of(GradientMode.BPDA);
    }

    @Override
    public boolean randomized() {
        return false;
    }

    @Override
    public NDArray purify(NDArray x, long seed) {
        return purifyDroppingMasks(x, seed);
    }

    /** Purifies without gradients; the anomaly map is the entropy map over its maximum attainable value. */
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
        try (NDManager scope = parent.newSubManager()) {
            Shape maskShape = new Shape(n, 1, h, w);
            NDArray in = scope.create(all, s);
            NDArray maskArr = scope.create(mask, maskShape);
            NDArray out = Inpainter.composite(in, maskArr, inpainter.inpaint(in, maskArr, seed));
            out.attach(parent);
            maskArr.attach(parent);
            return new Masked(out, maskArr, parent.create(anomaly, maskShape));
        }
    }

    /** Jedi's mask of one entropy map (H×W, bits): kernel threshold, opening, closing, kernel union, margin. */
    static boolean[] mask(float[] bits, int h, int w, Options o) {
        double cut = o.theta() * EntropyMap.maxBits(o.radius(), o.bins());
        boolean[] centres = new boolean[bits.length];
        for (int p = 0; p < bits.length; p++) {
            centres[p] = bits[p] > cut;
        }
        centres = Morphology.close(Morphology.open(centres, h, w, o.open()), h, w, o.close());
        // a dilation by r with the 3×3 element is the union of the (2r+1)² windows around the kept centres
        return Morphology.dilate(centres, h, w, o.radius() + o.dilate());
    }
}
