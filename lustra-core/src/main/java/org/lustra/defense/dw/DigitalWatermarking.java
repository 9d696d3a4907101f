package org.lustra.defense.dw;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import org.lustra.defense.GradientMode;
import org.lustra.defense.MaskingPurifier;
import org.lustra.defense.classic.Morphology;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.model.Classifier;
import org.lustra.nn.Autograd;

/**
 * Digital Watermarking (J. Hayes, "On Visible Adversarial Perturbations &amp; Digital Watermarking", CVPR Workshops
 * 2018), as DIFFender's Table 1 runs it (seed 000 §2, §4.1): a visible patch dominates the protected classifier's
 * saliency, so the salient region is found, cleaned morphologically and inpainted.
 * <ol>
 *   <li>Saliency: max over channels of |∂z_ŷ/∂x| for the predicted class ŷ (Simonyan et al., 2014), smoothed by a
 *       (2·smoothing+1)² box mean so a dense salient region stands out from isolated gradient spikes.</li>
 *   <li>Threshold: pixels above mean + θ·std of the image's map (a z-score, as DIFFender's localiser; a map with no
 *       spread selects nothing, so a clean image with diffuse saliency is left alone).</li>
 *   <li>Morphology: an opening (erosion then dilation, {@code erosion} times) drops isolated pixels and thin specks;
 *       then {@code dilation} more dilations cover the patch's border, which inpainting must not read from.</li>
 *   <li>Inpainting of the mask: Telea's fast marching by default (the classic method of the paper's era, deterministic
 *       and CPU-cheap); the shipped diffusion model as a variant.</li>
 * </ol>
 * Pixels outside the mask are returned bit for bit.
 *
 * <p>Gradients: BPDA only. The mask is a threshold of the saliency, and for ReLU/max-pool networks the saliency is
 * piecewise constant in x (its derivative is zero almost everywhere), so a straight-through estimator at the
 * threshold would pass a zero, not a signal; and with the mask fixed, Telea's fill reads no pixel inside the mask, so
 * the exact gradient on the patch is zero too. Identity backward (Athalye et al., 2018) is the attack the seed runs.
 */
public final class DigitalWatermarking implements MaskingPurifier {

    /**
     * @param theta z-score threshold on the smoothed saliency map
     * @param smoothing radius of the box mean applied to the saliency before thresholding (0 = none)
     * @param erosion erosions (and as many dilations) of the opening
     * @param dilation extra dilations of the opened mask
     */
    public record Options(double theta, int smoothing, int erosion, int dilation) {
        public Options {
            if (!Double.isFinite(theta) || smoothing < 0 || smoothing > 5 || erosion < 0 || erosion > 5
                    || dilation < 0 || dilation > 10) {
                throw new IllegalArgumentException("Invalid DW options: theta " + theta + " (finite), smoothing "
                        + smoothing + " (0..5), erosion " + erosion + " (0..5), dilation " + dilation + " (0..10)");
            }
        }

        /**
         * Placeholders for 28×28 images until they are chosen on {@code data/validation}: θ = 2, 3×3 smoothing, one
         * opening step (drops regions thinner than 3 pixels; a 6×6 patch survives), one pixel of margin.
         */
        public static Options defaults() {
            return new Options(2.0, 1, 1, 1);
        }

        public Options withTheta(double v) {
            return new Options(v, smoothing, erosion, dilation);
        }

        public Options withSmoothing(int v) {
            return new Options(theta, v, erosion, dilation);
        }

        public Options withErosion(int v) {
            return new Options(theta, smoothing, v, dilation);
        }

        public Options withDilation(int v) {
            return new Options(theta, smoothing, erosion, v);
        }
    }

    /**
     * A DW defence as a spec names it: the options plus the inpainting, Telea with {@code radius} (default) or, when
     * {@code diffusionSteps} &gt; 0, the shipped diffusion model with that many DDIM steps.
     */
    public record Config(Options options, int radius, int diffusionSteps) {
        /** The spec grammar after {@code dw}. */
        public static final String FORM = "dw[:thetaX][:smoothN][:openN][:dilateN][:teleaR|:ddimN]";

        public Config {
            if (radius < 1 || radius > 64 || diffusionSteps < 0) {
                throw new IllegalArgumentException("Invalid DW inpainting: Telea radius " + radius + " (1..64), "
                        + "diffusion steps " + diffusionSteps + " (0 = Telea, or ≥ 1)");
            }
        }

        /** Parses a spec {@code dw:…} ({@link #FORM}); throws IllegalArgumentException naming the bad option. */
        public static Config parse(String spec) {
            Options o = Options.defaults();
            int radius = 3;
            int steps = 0;
            String[] p = spec.split(":");
            if (!p[0].equals("dw")) {
                throw new IllegalArgumentException("not a DW spec: " + spec);
            }
            for (int i = 1; i < p.length; i++) {
                String v = p[i];
                if (v.startsWith("theta")) {
                    o = o.withTheta(Double.parseDouble(v.substring(5)));
                } else if (v.matches("smooth\\d+")) {
                    o = o.withSmoothing(Integer.parseInt(v.substring(6)));
                } else if (v.matches("open\\d+")) {
                    o = o.withErosion(Integer.parseInt(v.substring(4)));
                } else if (v.matches("dilate\\d+")) {
                    o = o.withDilation(Integer.parseInt(v.substring(6)));
                } else if (v.matches("telea\\d+")) {
                    radius = Integer.parseInt(v.substring(5));
                } else if (v.matches("ddim\\d+")) {
                    steps = Integer.parseInt(v.substring(4));
                } else {
                    throw new IllegalArgumentException("unknown option " + v);
                }
            }
            return new Config(o, radius, steps);
        }

        public boolean usesDiffusionModel() {
            return diffusionSteps > 0;
        }

        /** The defence of {@code classifier}; {@code diffusionModel} is asked only for diffusion inpainting. */
        public DigitalWatermarking build(Classifier classifier, Supplier<DiffusionModel> diffusionModel) {
            Inpainter fill = diffusionSteps > 0 ? Inpainter.diffusion(diffusionModel.get(), diffusionSteps)
                    : Inpainter.telea(radius);
            return new DigitalWatermarking(classifier, options, fill);
        }
    }

    private final Classifier classifier;
    private final Options options;
    private final Inpainter inpainter;

    /** A DW defence for {@code classifier} (the protected one: its saliency locates the patch). */
    public DigitalWatermarking(Classifier classifier, Options options, Inpainter inpainter) {
        this.classifier = classifier;
        this.options = options;
        this.inpainter = inpainter;
    }

    public Options options() {
        return options;
    }

    @Override
    public String name() {
        return String.format(Locale.ROOT, "dw(theta=%.2f, smooth=%d, open=%d, dilate=%d, %s)", options.theta(),
                options.smoothing(), options.erosion(), options.dilation(), inpainter.name());
    }

    @Override
    public Set<GradientMode> gradientModes() {
        return EnumSet.of(GradientMode.BPDA);
    }

    @Override
    public boolean randomized() {
        return inpainter.randomized();
    }

    @Override
    public NDArray purify(NDArray x, long seed) {
        return purifyDroppingMasks(x, seed);
    }

    /** Purifies without gradients; the anomaly map is the smoothed saliency divided by its maximum. */
    @Override
    public Masked purifyMasked(NDArray x, long seed) {
        NDManager parent = x.getManager();
        Shape s = x.getShape();
        int n = (int) s.get(0);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        try (NDManager scope = parent.newSubManager()) {
            NDArray in = x.stopGradient();
            in.attach(scope);
            float[] saliency = saliency(in).toFloatArray();
            float[] mask = new float[n * h * w];
            float[] anomaly = new float[n * h * w];
            for (int i = 0; i < n; i++) {
                float[] one = java.util.Arrays.copyOfRange(saliency, i * h * w, (i + 1) * h * w);
                float[] smooth = boxMean(one, h, w, options.smoothing());
                boolean[] m = mask(smooth, h, w, options);
                float max = 0;
                for (float v : smooth) {
                    max = Math.max(max, v);
                }
                for (int p = 0; p < h * w; p++) {
                    mask[i * h * w + p] = m[p] ? 1f : 0f;
                    anomaly[i * h * w + p] = max > 0 ? smooth[p] / max : 0f;
                }
            }
            Shape maskShape = new Shape(n, 1, h, w);
            NDArray maskArr = scope.create(mask, maskShape);
            NDArray out = Inpainter.composite(in, maskArr, inpainter.inpaint(in, maskArr, seed));
            out.attach(parent);
            maskArr.attach(parent);
            NDArray anomalyArr = parent.create(anomaly, maskShape);
            return new Masked(out, maskArr, anomalyArr);
        }
    }

    /**
     * Saliency (N, 1, H, W): max over channels of |∂z_ŷ/∂x| for each image's predicted class ŷ, computed on a detached
     * copy so it also works inside an attack's gradient collector. Owned by {@code x}'s manager.
     */
    public NDArray saliency(NDArray x) {
        NDArray g = Autograd.inputGradient(x, leaf -> {
            NDArray z = classifier.logits(leaf);
            int k = (int) z.getShape().get(1);
            float[] logits = z.stopGradient().toFloatArray();
            float[] onehot = new float[logits.length];
            for (int i = 0; i < logits.length / k; i++) {
                int best = 0;
                for (int j = 1; j < k; j++) {
                    best = logits[i * k + j] > logits[i * k + best] ? j : best;
                }
                onehot[i * k + best] = 1f;
            }
            return z.mul(z.getManager().create(onehot, z.getShape()));
        });
        NDArray s = g.abs().max(new int[] {1}, true);
        g.close();
        return s;
    }

    /** The DW mask of one smoothed saliency map (H×W): z-score threshold, opening, extra dilation. */
    static boolean[] mask(float[] smooth, int h, int w, Options o) {
        double mean = 0;
        for (float v : smooth) {
            mean += v;
        }
        mean /= smooth.length;
        double var = 0;
        for (float v : smooth) {
            var += (v - mean) * (v - mean);
        }
        double std = Math.sqrt(var / smooth.length);
        boolean[] m = new boolean[smooth.length];
        if (!(std > 0)) {
            return m; // a flat (or non-finite) map singles nothing out
        }
        double cut = mean + o.theta() * std;
        for (int p = 0; p < m.length; p++) {
            m[p] = smooth[p] > cut;
        }
        return Morphology.dilate(Morphology.open(m, h, w, o.erosion()), h, w, o.dilation());
    }

    /** Mean over the in-image (2r+1)² window of each pixel. */
    static float[] boxMean(float[] map, int h, int w, int r) {
        if (r == 0) {
            return map.clone();
        }
        float[] out = new float[map.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double sum = 0;
                int count = 0;
                for (int yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
                    for (int xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) {
                        sum += map[yy * w + xx];
                        count++;
                    }
                }
                out[y * w + x] = (float) (sum / count);
            }
        }
        return out;
    }
}
