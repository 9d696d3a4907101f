package org.lustra.defense.diffender;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSchedule;
import org.lustra.diffusion.NoiseSource;
import org.lustra.model.Classifier;
import org.lustra.nn.AdamW;
import org.lustra.nn.Scalars;

/**
 * One prompt-tuning step's loss (SPEC §4.4): the three terms, each weighted, and <em>each term's own gradient</em> on
 * both prompts — one forward, then one backward per term on the retained graph — so the tuning can log per-term
 * gradient norms and clip per term. Not in {@link PromptTuning} to keep each class to one job.
 */
final class TuningLoss {
    /** The three terms, in this order everywhere. */
    static final String[] TERMS = {"mask", "l1", "feature"};

    /**
     * What one step measured.
     *
     * @param values unweighted term values {mask, l1, feature} (NaN for a term not computed)
     * @param gradL per term, ∂(w_t·term_t)/∂prompt_L as values (null for a term not computed or a prompt not tuned)
     * @param gradR the same for prompt_R
     */
    record Step(double[] values, float[][] gradL, float[][] gradR) {}

    private final DiffusionModel model;
    private final Classifier classifier;
    private final Diffender.Options base;
    private final TuningOptions opt;
    private final PatchLocalizer localizer;

    TuningLoss(DiffusionModel model, Classifier classifier, Diffender.Options base, TuningOptions opt) {
        this.model = model;
        this.classifier = classifier;
        this.base = base;
        this.opt = opt;
        this.localizer = new PatchLocalizer(model, base.localization());
    }

    /** Whether the restoration (and prompt_R) takes part: only the ℓ1 and feature terms need it. */
    boolean restores() {
        return opt.l1Weight() > 0 || opt.featureWeight() > 0;
    }

    /** The weighted terms' values and per-term gradients on a batch; gradients on {@code l}, {@code r} left zero. */
    Step step(NDManager root, LearnablePrompt l, LearnablePrompt r, PromptTuning.PatchedSet set, int[] idx,
            NoiseSource noise) {
        int b = idx.length;
        int c = model.config().channels();
        int s = model.config().size();
        int d = c * s * s;
        float[] adv = new float[b * d];
        float[] clean = new float[b * d];
        float[] mask = new float[b * s * s];
        for (int i = 0; i < b; i++) {
            System.arraycopy(set.adversarial(), idx[i] * d, adv, i * d, d);
            System.arraycopy(set.clean(), idx[i] * d, clean, i * d, d);
            System.arraycopy(set.masks(), idx[i] * s * s, mask, i * s * s, s * s);
        }
        double[] values = {Double.NaN, Double.NaN, Double.NaN};
        float[][] gl = new float[3][];
        float[][] gr = new float[3][];
        try (NDManager m = root.newSubManager()) {
            NDArray x = m.create(adv, new Shape(b, c, s, s));
            NDArray xc = m.create(clean, new Shape(b, c, s, s));
            NDArray truth = m.create(mask, new Shape(b, 1, s, s));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                PatchLocalizer.Localization loc = localizer.localize(x, Prompt.live(l.sequence(m)), noise);
                List<Integer> which = new ArrayList<>();
                List<NDArray> terms = new ArrayList<>();
                if (opt.maskWeight() > 0) {
                    which.add(0);
                    terms.add(bce(loc, truth));
                }
                if (restores()) {
                    NDArray restored = restore(x, loc.mask(), Prompt.live(r.sequence(m)).context(model, m, b), noise);
                    if (opt.l1Weight() > 0) {
                        which.add(1);
                        terms.add(restored.sub(xc).abs().mean());
                    }
                    if (opt.featureWeight() > 0) {
                        which.add(2);
                        terms.add(featureDistance(restored, xc));
                    }
                }
                double[] w = {opt.maskWeight(), opt.l1Weight(), opt.featureWeight()};
                for (int k = 0; k < terms.size(); k++) {
                    int t = which.get(k);
                    values[t] = terms.get(k).getFloat();
                    NDArray weighted = Scalars.mul(terms.get(k), w[t]).sum();
                    // the graph is kept for the next term's backward; the last one frees it
                    JniUtils.backward((PtNDArray) weighted, (PtNDArray) weighted.onesLike(), k + 1 < terms.size(),
                            false);
                    gl[t] = opt.tuneL() ? takeGradient(l.learnable(), m) : null;
                    gr[t] = opt.tuneR() ? takeGradient(r.learnable(), m) : null;
                }
            }
        }
        return new Step(values, gl, gr);
    }

    /** The gradient's values, then zero it (the next term starts from nothing). */
    private static float[] takeGradient(NDArray p, NDManager m) {
        try (NDManager s = m.newSubManager()) {
            NDArray g = p.getGradient();
            g.attach(s);
            float[] out = g.toFloatArray();
            AdamW.zeroGradient(p, s);
            return out;
        }
    }

    /**
     * Eq. 3 as a real per-pixel BCE between the true mask and σ(k(Z − θ)); with an anomaly floor, θ is the per-image
     * threshold max(θ, z-score of the floor) the defence's mask uses, so the mask term trains toward the same rule.
     */
    private NDArray bce(PatchLocalizer.Localization loc, NDArray truth) {
        PatchLocalizer.Options o = base.localization();
        NDArray margin = PatchLocalizer.margin(loc.anomaly(), loc.zScores(), o.theta(), o.floor(), o.repetitions());
        NDArray p = Activation.sigmoid(Scalars.mul(margin, opt.sharpness())).clip(1e-6f, 1 - 1e-6f);
        return truth.mul(p.log()).add(truth.sub(1f).neg().mul(p.sub(1f).neg().log())).mean().neg();
    }

    /**
     * The restoration of {@link Diffender} (inpainting from pure noise, DDIM, CFG with the empty prompt, unmasked
     * pixels pasted back) kept in one autograd graph, at {@code opt.restoreSteps()} steps; (N, C, H, W) in [0, 1].
     * Not {@code Sampler.denoiseWithContext}: it closes each step's manager to keep memory flat, which frees the
     * intermediates the backward pass through prompt_R needs.
     */
    private NDArray restore(NDArray x, NDArray mask, NDArray ctxR, NoiseSource noise) {
        NDManager m = x.getManager();
        int n = (int) x.getShape().get(0);
        NoiseSchedule sched = model.schedule();
        NDArray x0 = Scalars.mul(x, 2).sub(1f);
        NDArray keep = mask.sub(1f).neg();
        NDArray masked = x0.mul(keep);
        NDArray ctxU = model.context(m, Collections.nCopies(n, ""), false);
        double g = base.restoreGuidance();
        int[] grid = NoiseSchedule.grid(sched.steps() - 1, opt.restoreSteps());
        NDArray cur = noise.normal(m, x.getShape());
        for (int i = 0; i < grid.length; i++) {
            int t = grid[i];
            int tPrev = i + 1 < grid.length ? grid[i + 1] : -1;
            int[] ts = new int[n];
            java.util.Arrays.fill(ts, t);
            NDArray eps = g != 1.0 ? model.predictNoiseGuided(cur, ts, mask, masked, ctxR, ctxU, g)
                    : model.predictNoise(cur, ts, mask, masked, ctxR, false);
            cur = sched.ddimStep(cur, t, tPrev, eps, 0, null);
        }
        NDArray out = Scalars.div(cur.add(1f), 2).clip(0f, 1f);
        return x.mul(keep).add(out.mul(mask));
    }

    /**
     * Eq. 5 of the paper: Σ over the classifier's stages of the spatial mean of Σ_c (f̂_r − f̂)² / C, features
     * unit-normalised over channels (uniform channel weights); the clean side carries no gradient.
     */
    private NDArray featureDistance(NDArray restored, NDArray clean) {
        List<NDArray> a = classifier.forward(restored).stages();
        List<NDArray> b = classifier.forward(clean.stopGradient()).stages();
        NDArray total = null;
        for (int i = 0; i < a.size(); i++) {
            NDArray fa = unit(a.get(i));
            NDArray fb = unit(b.get(i)).stopGradient();
            NDArray term = fa.sub(fb).square().mean(); // mean over N, C, H, W = spatial mean of Σ_c / C
            total = total == null ? term : total.add(term);
        }
        return total;
    }

    /**
     * Channel-unit normalisation. The floor 1e−6 under the root (not LPIPS's 1e−10) bounds the gain at all-zero
     * feature vectors (post-ReLU background) to 10³: with 1e−10 the first tuning run's gradients exploded to NaN.
     */
    private static NDArray unit(NDArray f) {
        return f.div(f.square().sum(new int[] {1}, true).add(1e-6f).sqrt());
    }

    /** ‖g_t‖ per term; NaN for a term without a gradient. */
    static double[] norms(float[][] grads) {
        double[] out = {Double.NaN, Double.NaN, Double.NaN};
        for (int t = 0; t < 3; t++) {
            if (grads[t] != null) {
                double s = 0;
                for (float v : grads[t]) {
                    s += (double) v * v;
                }
                out[t] = Math.sqrt(s);
            }
        }
        return out;
    }

    /**
     * One step's gradient on a prompt from its per-term gradients, clipped as {@code clip} says (see
     * {@link TuningOptions.GradientClip}); null when no term reached the prompt.
     */
    static float[] combine(float[][] grads, double[] norms, TuningOptions.GradientClip clip, double bound) {
        float[] sum = null;
        double total = 0;
        for (int t = 0; t < 3; t++) {
            if (grads[t] == null) {
                continue;
            }
            double f = clip == TuningOptions.GradientClip.PER_TERM && norms[t] > bound ? bound / norms[t] : 1;
            sum = sum == null ? new float[grads[t].length] : sum;
            for (int j = 0; j < sum.length; j++) {
                sum[j] += (float) (f * grads[t][j]);
            }
        }
        if (sum != null && clip == TuningOptions.GradientClip.TOTAL) {
            for (float v : sum) {
                total += (double) v * v;
            }
            total = Math.sqrt(total);
            if (total > bound) {
                for (int j = 0; j < sum.length; j++) {
                    sum[j] *= (float) (bound / total);
                }
            }
        }
        return sum;
    }
}
