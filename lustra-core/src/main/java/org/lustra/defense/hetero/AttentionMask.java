package org.lustra.defense.hetero;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.lustra.model.Classifier;

/**
 * The attention mask of heterogeneous-noise purification (Pei et al., "Divide and Conquer: Heterogeneous Noise
 * Integration for Diffusion-based Adversarial Purification", CVPR 2025, §3.1 eq. 2–4; SPEC §5): from one forward pass
 * of the protected classifier, per stage m the channel norm G_m = (Σ_c |A_mc|^p)^(1/p), bilinearly up-sampled to the
 * image, normalised per image (paper: spatial softmax; the seed's code: min-max), thresholded (a value τ, or the top
 * fraction of pixels as the code does for ImageNet), and the union over the chosen stages. The mask is detached: no
 * gradient flows through it, which is what the seed's attacks assume; an attack on the mask itself is the
 * detector-aware objective of SPEC §7, not this class's business.
 *
 * <p>Works for any {@link Classifier} whose stages are (N, C, h, w) feature maps or (N, L, D) token sequences of a
 * square grid, with or without one leading class token.
 */
public final class AttentionMask {

    /** The per-image normalisation φ of eq. 3. */
    public enum Normalization {
        /** Softmax over all pixels (the paper): values sum to 1, so a value τ depends on the image size. */
        SOFTMAX,
        /** (v − min) / (max − min) per image (the seed's code); a constant map becomes all zeros. */
        MIN_MAX
    }

    /** How a normalised map becomes binary. */
    public enum Threshold {
        /** 1 where the map exceeds τ (eq. 4). */
        VALUE,
        /** 1 on the given fraction of pixels with the highest values (ties at the cut included). */
        TOP_FRACTION
    }

    /**
     * @param p exponent of the channel norm (p ≥ 1)
     * @param root take the 1/p root (the paper) or not (the seed's code: p = 2 without the root); the root does not
     *     change the top-fraction mask, but it changes what a value τ means
     * @param normalization per-image normalisation of the up-sampled map
     * @param threshold value or top-fraction thresholding
     * @param level τ in [0, 1] for {@link Threshold#VALUE}; the fraction of pixels in (0, 1] for
     *     {@link Threshold#TOP_FRACTION}
     * @param stages indices (0 = shallowest) of the stages whose masks are united; empty = every stage (the seed's
     *     Table 7 ablation leaves one out)
     */
    public record Options(double p, boolean root, Normalization normalization, Threshold threshold, double level,
            List<Integer> stages) {
        public Options {
            if (!(p >= 1 && p < 1e3)) {
                throw new IllegalArgumentException("Invalid attention norm exponent p: " + p + " (1 ≤ p < 1000)");
            }
            if (normalization == null || threshold == null || stages == null) {
                throw new IllegalArgumentException("Attention mask options need a normalization, a threshold kind "
                        + "and a stage list (empty = all)");
            }
            boolean ok = threshold == Threshold.VALUE ? level >= 0 && level <= 1 : level > 0 && level <= 1;
            if (!ok) {
                throw new IllegalArgumentException("Invalid attention threshold " + threshold + " " + level
                        + (threshold == Threshold.VALUE ? " (0 ≤ τ ≤ 1)" : " (0 < fraction ≤ 1)"));
            }
            stages = List.copyOf(stages);
            if (stages.stream().anyMatch(s -> s < 0) || new HashSet<>(stages).size() != stages.size()) {
                throw new IllegalArgumentException("Invalid attention stages " + stages + " (distinct, ≥ 0)");
            }
        }

        /**
         * The defaults, the seed's code as SPEC §5 describes it (p = 2 without root, min-max, τ = 0.9, every stage);
         * the validation sweep (docs/results/calibration/hetero-stride10-diffusion-unified-classifier-resnet.md) kept
         * min-max τ 0.9 over τ 0.5 / 0.7 and top 10 / 20 %.
         */
        public static Options defaults() {
            return new Options(2, false, Normalization.MIN_MAX, Threshold.VALUE, 0.9, List.of());
        }

        public Options withNorm(double exponent, boolean takeRoot) {
            return new Options(exponent, takeRoot, normalization, threshold, level, stages);
        }

        public Options withNormalization(Normalization n) {
            return new Options(p, root, n, threshold, level, stages);
        }

        public Options withValueThreshold(double tau) {
            return new Options(p, root, normalization, Threshold.VALUE, tau, stages);
        }

        public Options withTopFraction(double fraction) {
            return new Options(p, root, normalization, Threshold.TOP_FRACTION, fraction, stages);
        }

        public Options withStages(List<Integer> indices) {
            return new Options(p, root, normalization, threshold, level, indices);
        }

        /** A short description for purifier names and reports, e.g. "minmax τ=0.90". */
        public String describe() {
            String norm = normalization == Normalization.SOFTMAX ? "softmax" : "minmax";
            String thr = threshold == Threshold.VALUE ? String.format(java.util.Locale.ROOT, "τ=%.2f", level)
                    : String.format(java.util.Locale.ROOT, "top%.0f%%", 100 * level);
            String g = (p == 2 && !root) ? "" : String.format(java.util.Locale.ROOT, " p=%s%s", p, root ? "" : "²");
            return norm + " " + thr + g + (stages.isEmpty() ? "" : " stages" + stages);
        }
    }

    /**
     * A computed attention.
     *
     * @param mask (N, 1, H, W) of 0/1, 1 = attended (strong noise)
     * @param map (N, 1, H, W), the pixel-wise maximum of the normalised stage maps (what the mask thresholds, for
     *     display)
     */
    public record Attention(NDArray mask, NDArray map) {}

    private AttentionMask() {}

    /**
     * The attention of {@code classifier} on {@code x} (N, C, H, W): one forward pass of a detached copy. Both arrays
     * are owned by {@code x}'s manager and carry no gradient.
     */
    public static Attention of(Classifier classifier, NDArray x, Options o) {
        NDManager parent = x.getManager();
        Shape s = x.getShape();
        try (NDManager scope = parent.newSubManager()) {
            NDArray in = x.stopGradient();
            in.attach(scope);
            List<NDArray> maps = stageMaps(classifier.forward(in).stages(), o, s.get(2), s.get(3));
            NDArray mask = mask(maps, o);
            NDArray map = maps.stream().reduce(NDArray::maximum).orElseThrow();
            return new Attention(scope.ret(mask), scope.ret(map));
        }
    }

    /**
     * The normalised attention map AM_m = φ(Bi(G_m)) of every chosen stage, each (N, 1, h, w), owned by the first
     * stage's manager. Token stages are folded onto their grid first.
     */
    public static List<NDArray> stageMaps(List<NDArray> stages, Options o, long h, long w) {
        List<NDArray> chosen = choose(stages, o);
        List<NDArray> out = new ArrayList<>(chosen.size());
        for (NDArray a : chosen) {
            NDArray g = channelNorm(asFeatureMap(a), o);
            if (g.getShape().get(2) != h || g.getShape().get(3) != w) {
                // DJL-NOTES: bilinear up-sampling matches PyTorch's (only down-sampling differs, by its antialias)
                g = g.getNDArrayInternal().interpolation(new long[] {h, w}, 1, false);
            }
            out.add(normalize(g, o.normalization()));
        }
        return out;
    }

    /** The union (pixel-wise maximum) of the thresholded maps: (N, 1, h, w) of 0/1 floats, in the first map's manager. */
    public static NDArray mask(List<NDArray> maps, Options o) {
        NDArray union = null;
        for (NDArray am : maps) {
            NDArray m = o.threshold() == Threshold.VALUE ? am.gt(o.level()).toType(DataType.FLOAT32, false)
                    : topFraction(am, o.level());
            union = union == null ? m : union.maximum(m);
        }
        return union;
    }

    /** (N, C, h, w) feature maps as they are; (N, L, D) tokens of a g×g grid (plus at most one class token) folded. */
    static NDArray asFeatureMap(NDArray a) {
        Shape s = a.getShape();
        if (s.dimension() == 4) {
            return a;
        }
        if (s.dimension() == 3) {
            long n = s.get(0);
            long len = s.get(1);
            long d = s.get(2);
            long g = Math.round(Math.sqrt(len));
            NDArray tokens = a;
            if (g * g != len) {
                g = Math.round(Math.sqrt(len - 1));
                if (g * g != len - 1) {
                    throw new IllegalArgumentException("Cannot fold " + len + " tokens onto a square grid (need g² "
                            + "tokens, or g² + 1 with a leading class token)");
                }
                tokens = a.get(":, 1:, :"); // the class token has no position on the image
            }
            return tokens.transpose(0, 2, 1).reshape(n, d, g, g);
        }
        throw new IllegalArgumentException("Stage activation must be (N, C, h, w) or (N, L, D), got " + s);
    }

    /** G = (Σ_c |A_c|^p)^(1/p), or without the root; (N, 1, h, w). */
    static NDArray channelNorm(NDArray a, Options o) {
        NDArray powered = o.p() == 2 ? a.square() : a.abs().pow(o.p());
        NDArray sum = powered.sum(new int[] {1}, true);
        return o.root() ? sum.pow(1.0 / o.p()) : sum;
    }

    static NDArray normalize(NDArray g, Normalization n) {
        Shape s = g.getShape();
        NDArray flat = g.reshape(s.get(0), -1);
        NDArray out;
        if (n == Normalization.SOFTMAX) {
            out = flat.softmax(1);
        } else {
            NDArray lo = flat.min(new int[] {1}, true);
            NDArray range = flat.max(new int[] {1}, true).sub(lo);
            // a constant map has no place that draws more attention than another: all zeros, not 0/0
            out = flat.sub(lo).div(range.maximum(1e-12f));
        }
        return out.reshape(s);
    }

    /** 1 on the ⌈fraction·h·w⌉ highest pixels of each image (ties at the cut included). */
    static NDArray topFraction(NDArray am, double fraction) {
        Shape s = am.getShape();
        NDArray flat = am.reshape(s.get(0), -1);
        long hw = flat.getShape().get(1);
        long k = Math.max(1, Math.min(hw, (long) Math.ceil(fraction * hw - 1e-9)));
        NDArray cut = flat.sort(1).get(":, " + (hw - k) + ":" + (hw - k + 1));
        return flat.gte(cut).toType(DataType.FLOAT32, false).reshape(s);
    }

    private static List<NDArray> choose(List<NDArray> stages, Options o) {
        if (stages.isEmpty()) {
            throw new IllegalArgumentException("The classifier exposes no stage activations; the attention mask needs "
                    + "at least one");
        }
        if (o.stages().isEmpty()) {
            return stages;
        }
        List<NDArray> out = new ArrayList<>();
        for (int i : o.stages()) {
            if (i >= stages.size()) {
                throw new IllegalArgumentException("Invalid attention stage " + i + " (the classifier has "
                        + stages.size() + " stages, 0.." + (stages.size() - 1) + ")");
            }
            out.add(stages.get(i));
        }
        return out;
    }
}
