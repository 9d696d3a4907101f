package org.lustra.defense.sac;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.lustra.attack.Patch;
import org.lustra.defense.DetectingPurifier;
import org.lustra.defense.GradientMode;
import org.lustra.defense.ThresholdedPurifier;
import org.lustra.defense.classic.Morphology;
import org.lustra.defense.dw.Inpainter;

/**
 * A SAC-like defence (J. Liu, A. Levine, C. P. Lau, R. Chellappa, S. Feizi, "Segment and Complete: Defending Object
 * Detectors against Adversarial Patch Attacks with Robust Patch Detection", CVPR 2022), for classifiers as DIFFender's
 * Table 1 runs it: the {@link PatchSegmenter}'s per-pixel probability is thresholded at τ, completed to squares of the
 * expected sides ({@link ShapeCompletion}), widened by {@code dilate} pixels and removed. Pixels outside the final mask
 * are returned bit for bit.
 *
 * <p>Removal: Telea inpainting by default, zeros ({@code zero}, what SAC does before its detector) as the variant.
 * Telea is the default so that DW, SAC and Jedi differ only in how they locate the patch; on Fashion-MNIST a zero fill
 * is the background colour and carves a black hole into a garment, which the classifier reads as shape.
 *
 * <p>Gradients: BPDA (identity backward), and STE ({@link ThresholdedPurifier}): exact through the segmenter, with the
 * hard mask passed straight through to the segmenter's probability (across the threshold, the completion and the
 * dilation), and the filled pixels passed as the identity (BPDA, as DIFFender's STE route treats its repainting; the
 * route label says so, {@link #straightThrough}). So an adaptive attacker gets the BPDA signal plus how to make the segmenter miss
 * the patch — the attack SAC's self-adversarial training is meant to resist. MASKED ({@link #purifyMaskedSurrogate})
 * drops that identity term: a replaced pixel can matter only by not being detected.
 *
 * <p>As a {@link DetectingPurifier} (issue 16: a defence that relies on a detector is attacked through it), the soft
 * detection is the segmenter's probability map, widened by {@code dilate} pixels as the mask is (a 3×3 max-pool per
 * pixel, whose derivative is exact: it selects one input), with exact gradients through the segmenter. The shape
 * completion is deliberately not relaxed. It is a union of candidate squares, each selected by a hard Hamming test on
 * the thresholded map; a sigmoid of each square's slack would be saturated — zero gradient — exactly where a square
 * clearly matches, i.e. whenever the patch is found, which is where the attacker needs a signal. What the completion
 * does to an attacker is a threshold on coverage: the patch's own square is completed once the thresholded map covers
 * at least 1 − γ of it, and with less coverage no square of a patch's size matches and only the map's own pixels (or
 * smaller squares inside them) are removed. Driving the probability inside the patch below τ is therefore the whole
 * evasion, and the hard {@link #detection} (after completion) is what checks it.
 * Owns its segmenter: close it (the {@code DefenseFactory} does).
 */
public final class SegmentAndComplete implements DetectingPurifier, ThresholdedPurifier, AutoCloseable {

    /** How the masked region is filled. */
    public enum Removal { TELEA, ZERO }

    /**
     * Settings; all placeholders until chosen on {@code data/validation} (not measured).
     *
     * @param threshold τ on the segmenter's probability
     * @param minSide smallest candidate square side (0 = the side of a 0.5 % patch of the image)
     * @param maxSide largest candidate square side (0 = the side of a 15 % patch)
     * @param gamma relative Hamming tolerance of the completion (0 ≤ γ &lt; 1)
     * @param dilate extra dilations of the completed mask (a margin the fill must not read from)
     * @param removal TELEA or ZERO
     * @param radius Telea's neighbourhood radius
     */
    public record Options(double threshold, int minSide, int maxSide, double gamma, int dilate, Removal removal,
            int radius) {
        public static final String FORM = "sac[:NAME][:tauX][:gammaX][:sidesA-B][:dilateN][:zero|:teleaR]";

        public Options {
            if (!(threshold > 0 && threshold < 1) || minSide < 0 || maxSide < 0 || (maxSide > 0 && minSide > maxSide)
                    || !(gamma >= 0 && gamma < 1) || dilate < 0 || dilate > 10 || removal == null || radius < 1
                    || radius > 64) {
                throw new IllegalArgumentException("Invalid SAC options: tau " + threshold + " (0..1), sides "
                        + minSide + "-" + maxSide + " (min <= max, 0 = derived), gamma " + gamma + " (0 <= gamma < 1),"
                        + " dilate " + dilate + " (0..10), Telea radius " + radius + " (1..64)");
            }
        }

        /** Placeholders: τ = 0.5, sides of 0.5–15 % patches, γ = 0.3, one pixel of margin, Telea radius 3. */
        public static Options placeholder() {
            return new Options(0.5, 0, 0, 0.3, 1, Removal.TELEA, 3);
        }

        /** The candidate square sides for h×w images. */
        public List<Integer> sides(int h, int w) {
            int lo = minSide > 0 ? minSide : Patch.side(0.005, h, w);
            int hi = Math.min(Math.min(h, w), maxSide > 0 ? maxSide : Patch.side(0.15, h, w));
            List<Integer> out = new ArrayList<>();
            for (int k = Math.min(lo, hi); k <= hi; k++) {
                out.add(k);
            }
            return out;
        }

        /** Applies one spec option ({@link #FORM}, without NAME); throws IllegalArgumentException if unknown. */
        public Options with(String option) {
            if (option.startsWith("tau")) {
                return new Options(Double.parseDouble(option.substring(3)), minSide, maxSide, gamma, dilate, removal,
                        radius);
            } else if (option.startsWith("gamma")) {
                return new Options(threshold, minSide, maxSide, Double.parseDouble(option.substring(5)), dilate,
                        removal, radius);
            } else if (option.matches("sides\\d+-\\d+")) {
                String[] p = option.substring(5).split("-");
                return new Options(threshold, Integer.parseInt(p[0]), Integer.parseInt(p[1]), gamma, dilate, removal,
                        radius);
            } else if (option.matches("dilate\\d+")) {
                return new Options(threshold, minSide, maxSide, gamma, Integer.parseInt(option.substring(6)), removal,
                        radius);
            } else if (option.equals("zero")) {
                return new Options(threshold, minSide, maxSide, gamma, dilate, Removal.ZERO, radius);
            } else if (option.matches("telea\\d+")) {
                return new Options(threshold, minSide, maxSide, gamma, dilate, Removal.TELEA,
                        Integer.parseInt(option.substring(5)));
            }
            throw new IllegalArgumentException("unknown option " + option);
        }

        /** True for a spec token that is an option rather than a model name. */
        public static boolean isOption(String token) {
            return token.matches("tau.*|gamma.*|sides.*|dilate\\d+|zero|telea\\d+");
        }
    }

    private final String name;
    private final PatchSegmenter segmenter;
    private final Options options;

    /** Takes ownership of {@code segmenter}. */
    public SegmentAndComplete(String name, PatchSegmenter segmenter, Options options) {
        this.name = name;
        this.segmenter = segmenter;
        this.options = options;
    }

    @Override
    public String name() {
        return name;
    }

    public Options options() {
        return options;
    }

    @Override
    public Set<GradientMode> gradientModes() {
        return EnumSet.of(GradientMode.BPDA, GradientMode.STE, GradientMode.MASKED);
    }

    @Override
    public boolean randomized() {
        return false;
    }

    @Override
    public NDArray purify(NDArray x, long seed) {
        return purifyDroppingMasks(x, seed);
    }

    /** Purifies without gradients; the anomaly map is the segmenter's probability. All owned by x's manager. */
    @Override
    public Masked purifyMasked(NDArray x, long seed) {
        NDManager parent = x.getManager();
        try (NDManager scope = parent.newSubManager()) {
            Found f = find(scope, x);
            NDArray out = Inpainter.composite(f.in(), f.mask(), fill(f.in(), f.mask()));
            out.attach(parent);
            f.mask().attach(parent);
            f.prob().attach(parent);
            return new Masked(out, f.mask(), f.prob());
        }
    }

    @Override
    public String straightThrough() {
        return "exact through the segmenter, threshold, completion and dilation straight through, BPDA for the filled "
                + "pixels";
    }

    /** Equal to {@code purify}; differentiable as the class comment says (STE). Owned by x's manager. */
    @Override
    public NDArray purifyForAttack(NDArray x, long seed) {
        try (NDManager scope = x.getManager().newSubManager()) {
            scope.tempAttachAll(x);
            NDArray prob = probability(scope, x);
            NDArray hard = hardMask(scope, prob, x.getShape());
            NDArray mask = prob.add(hard.sub(prob).stopGradient()); // value: hard; ∂/∂prob = 1
            NDArray fill = fill(x.stopGradient(), hard).stopGradient().duplicate(); // engine-owned: saved for backward
            // value exactly 0, derivative the mask: identity backward on the filled pixels without rounding the fill
            NDArray bpda = x.sub(x.stopGradient()).mul(mask);
            return scope.ret(Inpainter.composite(x, mask, fill).add(bpda));
        }
    }

    /** A detection without gradients: the detached input, the segmenter's probability and the hard mask. */
    private record Found(NDArray in, NDArray prob, NDArray mask) {}

    /** Detects on a detached copy of x; everything in {@code scope}. */
    private Found find(NDManager scope, NDArray x) {
        NDArray in = x.stopGradient();
        in.attach(scope);
        NDArray prob = probability(scope, in);
        return new Found(in, prob, hardMask(scope, prob, x.getShape()));
    }

    /** The segmenter's per-pixel patch probability (N, 1, H, W); gradient to x if x has one; in {@code scope}. */
    private NDArray probability(NDManager scope, NDArray x) {
        return Activation.sigmoid(segmenter.logits(new ParameterStore(scope, false), x, false));
    }

    /** The completed, dilated 0/1 mask purification replaces, from the probability; no gradient; in {@code scope}. */
    private NDArray hardMask(NDManager scope, NDArray prob, Shape imageShape) {
        return scope.create(masks(prob.toFloatArray(), imageShape), prob.getShape());
    }

    private NDArray fill(NDArray x, NDArray mask) {
        return options.removal() == Removal.ZERO ? x.zerosLike()
                : Inpainter.telea(options.radius()).inpaint(x, mask, 0);
    }

    /**
     * The segmenter's probability (N, 1, H, W), max-pooled {@code dilate} times as the mask is dilated; exact gradient
     * through the segmenter. Owned by x's manager.
     */
    @Override
    public NDArray softDetection(NDArray x, long seed) {
        try (NDManager scope = x.getManager().newSubManager()) {
            scope.tempAttachAll(x);
            return scope.ret(widen(probability(scope, x)));
        }
    }

    /** The final mask {@code purify(x, seed)} replaces (after completion and dilation); no gradient; x's manager. */
    @Override
    public NDArray detection(NDArray x, long seed) {
        NDManager parent = x.getManager();
        try (NDManager scope = parent.newSubManager()) {
            NDArray mask = find(scope, x).mask();
            mask.attach(parent);
            return mask;
        }
    }

    /**
     * Gradient mode MASKED: out = x·(1 − M̃) + sg(R)·M̃ with M̃ = P + sg(M − P), P the {@link #softDetection} and M the
     * final mask, R the fill. Equal to {@code purify(x, seed)}; ∂out/∂x = (1 − M) + (R − x)·∂P/∂x: exact outside the
     * mask, no identity term for the replaced pixels (see {@link GradientMode#MASKED}). Owned by x's manager.
     */
    @Override
    public NDArray purifyMaskedSurrogate(NDArray x, long seed) {
        try (NDManager scope = x.getManager().newSubManager()) {
            scope.tempAttachAll(x);
            NDArray prob = probability(scope, x);
            NDArray hard = hardMask(scope, prob, x.getShape());
            NDArray soft = widen(prob);
            NDArray mask = soft.add(hard.sub(soft).stopGradient()); // value: hard; ∂/∂soft = 1
            // an engine-owned copy: the fill is saved for the backward pass, and the inpainter's array is backed by a
            // Java buffer that dies with this scope (see nn.Scalars)
            NDArray fill = fill(x.stopGradient(), hard).stopGradient().duplicate();
            return scope.ret(Inpainter.composite(x, mask, fill));
        }
    }

    /** The soft map widened as the mask is: {@code dilate} in-image 3×3 max-pools. */
    private NDArray widen(NDArray map) {
        return Morphology.dilate(map, options.dilate());
    }

    /** The final masks (N·H·W, 0/1) of per-pixel probabilities (N·H·W) of images of shape {@code s}. */
    float[] masks(float[] prob, Shape s) {
        int n = (int) s.get(0);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        List<Integer> sides = options.sides(h, w);
        float[] out = new float[n * h * w];
        for (int i = 0; i < n; i++) {
            boolean[] coarse = new boolean[h * w];
            for (int p = 0; p < h * w; p++) {
                coarse[p] = prob[i * h * w + p] > options.threshold();
            }
            boolean[] m = ShapeCompletion.complete(coarse, h, w, sides, options.gamma()).mask();
            m = Morphology.dilate(m, h, w, options.dilate());
            for (int p = 0; p < h * w; p++) {
                out[i * h * w + p] = m[p] ? 1f : 0f;
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s(tau=%.2f, gamma=%.2f, sides=%s, dilate=%d, %s)", name,
                options.threshold(), options.gamma(), Arrays.toString(new int[] {options.minSide(), options.maxSide()}),
                options.dilate(), options.removal());
    }

    @Override
    public void close() {
        segmenter.close();
    }
}
