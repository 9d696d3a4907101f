package org.lustra.defense.diffender;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.model.Classifier;
import org.lustra.nn.AdamW;
import org.lustra.nn.ConvolutionCheck;
import org.lustra.util.Permutations;

/**
 * DIFFender's few-shot prompt tuning (Kang et al., ECCV 2024, §3.3; SPEC §4.4). Two prompts of n learnable token
 * vectors, everything else frozen; they start from the base variant's words ({@link LearnablePrompt}: epoch 0 is then
 * exactly the manual prompt) or, as an ablation, from random vectors. On patched training images with their true
 * masks and clean originals the loss is
 * <pre>L = w_m·BCE(M, σ(k(Z − θ))) + w_1·‖x_r − x‖₁ + w_d·d(x_r, x)</pre>
 * (with an anomaly floor on the base variant, θ is the per-image threshold max(θ, z-score of the floor))
 * — the paper's Eq. 3 (a real per-pixel BCE on the z-score map), the ℓ1 restoration error and Eq. 5 (see
 * {@link TuningLoss}). Gradients reach prompt_L through the BCE and through the straight-through mask into the
 * restoration, prompt_R through every DDIM step of the restoration.
 *
 * <p>SGD with momentum, weight decay and a cosine learning rate (official: lr 0.002, momentum 0.9, wd 5e−4, 50 epochs,
 * batch 1). Gradient clipping is <b>per term</b> by default: each weighted term's gradient on a prompt is clipped to
 * {@code maxGradNorm} on its own, then the terms are summed. Clipping the summed gradient (the old way,
 * {@link TuningOptions.GradientClip#TOTAL}) shrinks the mask term by the same factor as the restoration terms whenever those are
 * large, so the one term that teaches localisation was diluted; per term it keeps up to its full size. Each epoch logs
 * every term's gradient norm on each prompt. A step whose loss or gradient is not finite is skipped and logged.
 *
 * <p>Validation (every {@code validateEvery} epochs, and at epoch 0 before any step) runs the defence with the current
 * prompts on fixed noise: raw- and refined-mask IoU against the true masks and, when the restoration is being tuned,
 * the restored accuracy. The kept epoch has the best raw-mask IoU (ties: restored accuracy) and may be epoch 0 — then
 * tuning did not beat its start, and the result says so.
 */
public final class PromptTuning {

    /** Patched images (flat N·C·H·W in [0, 1]), their clean originals, true masks (N·H·W) and labels. */
    public record PatchedSet(float[] adversarial, float[] clean, float[] masks, int[] labels) {
        public PatchedSet {
            int n = labels.length;
            if (n == 0 || adversarial.length != clean.length || adversarial.length % n != 0 || masks.length % n != 0) {
                throw new IllegalArgumentException("Inconsistent patched set: " + n + " labels, " + adversarial.length
                        + " adversarial and " + clean.length + " clean values, " + masks.length + " mask values");
            }
        }

        public int size() {
            return labels.length;
        }
    }

    /**
     * One epoch (epoch 0: validation of the starting prompts only, losses NaN): mean unweighted term values, the mean
     * norm of each weighted term's gradient on each prompt ({mask, l1, feature}; NaN where not computed), and the
     * validation scores when validated (restored accuracy null when the restoration is not tuned).
     */
    public record Epoch(int epoch, double loss, double bce, double l1, double feature, double[] gradNormL,
            double[] gradNormR, int skippedSteps, double learningRate, Double validationAccuracy,
            Double validationIou, Double validationRefinedIou, double seconds) {}

    /** The tuned prompts (full token sequences) and the record of how they were chosen. */
    public record Result(Prompt promptL, Prompt promptR, int bestEpoch, List<Epoch> history) {
        /** The epoch-0 (starting prompts) validation line. */
        public Epoch start() {
            return history.get(0);
        }

        public Epoch best() {
            return history.stream().filter(e -> e.epoch() == bestEpoch).findFirst().orElseThrow();
        }
    }

    private final DiffusionModel model;
    private final Classifier classifier;
    private final Diffender.Options base;
    private final TuningOptions opt;
    private final int length;
    private final int dim;
    private final TuningLoss loss;

    /**
     * @param base the DIFFender settings the prompts are tuned for (localisation options, restoration guidance);
     *     its prompts are replaced
     */
    public PromptTuning(DiffusionModel model, Classifier classifier, Diffender.Options base, TuningOptions opt) {
        ConvolutionCheck.require(); // the prompts' gradients pass through UNet convolution backward
        this.model = model;
        this.classifier = classifier;
        this.base = base;
        this.opt = opt;
        this.length = model.config().contextLength();
        this.dim = model.encoder().dim();
        this.loss = new TuningLoss(model, classifier, base, opt);
        if (opt.tokens() > length - 2) {
            throw new IllegalArgumentException("Prompt tuning with " + opt.tokens() + " tokens needs a context of at "
                    + "least " + (opt.tokens() + 2) + "; this model's is " + length);
        }
    }

    /** Tunes on {@code train}, chooses the epoch on {@code validation}; progress lines go to {@code log}. */
    public Result tune(PatchedSet train, PatchedSet validation, Consumer<String> log) {
        NoiseSource rng = new NoiseSource(opt.seed());
        try (NDManager root = NDManager.newBaseManager()) {
            LearnablePrompt l = LearnablePrompt.start(model, root, opt.tokens(), opt.initL(), opt.initStd(), rng);
            LearnablePrompt r = LearnablePrompt.start(model, root, opt.tokens(), opt.initR(), opt.initStd(), rng);
            NDArray velL = root.zeros(l.learnable().getShape());
            NDArray velR = root.zeros(r.learnable().getShape());
            l.learnable().setRequiresGradient(opt.tuneL());
            r.learnable().setRequiresGradient(opt.tuneR());
            List<Epoch> history = new ArrayList<>();
            long t00 = System.nanoTime();
            double[] v0 = validation(l, r, root).score(validation);
            Epoch start = new Epoch(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, nan3(), nan3(), 0, 0,
                    accuracy(v0), v0[1], v0[2], (System.nanoTime() - t00) / 1e9);
            history.add(start);
            log.accept(line(start));
            Validated best = new Validated(0, v0, l.values(root), r.values(root));
            int stepsPerEpoch = (train.size() + opt.batch() - 1) / opt.batch();
            int total = opt.epochs() * stepsPerEpoch;
            int step = 0;
            for (int epoch = 1; epoch <= opt.epochs(); epoch++) {
                long t0 = System.nanoTime();
                EpochSums sums = trainEpoch(root, l, r, velL, velR, train, rng, step, total);
                step += stepsPerEpoch;
                double lr = sums.lastLearningRate();
                int skipped = sums.skipped();
                int used = Math.max(1, stepsPerEpoch - skipped);
                double[] normL = sums.normL();
                double[] normR = sums.normR();
                double[] v = null;
                if (epoch % opt.validateEvery() == 0 || epoch == opt.epochs()) {
                    v = validation(l, r, root).score(validation);
                    if (better(v, best.scores())) {
                        best = new Validated(epoch, v, l.values(root), r.values(root));
                    }
                }
                double[] m = scale(sums.values(), used);
                double weighted = opt.maskWeight() * zeroIfNan(m[0]) + opt.l1Weight() * zeroIfNan(m[1])
                        + opt.featureWeight() * zeroIfNan(m[2]);
                Epoch e = new Epoch(epoch, weighted, m[0], m[1], m[2], scale(normL, used), scale(normR, used), skipped,
                        lr, v == null ? null : accuracy(v), v == null ? null : v[1], v == null ? null : v[2],
                        (System.nanoTime() - t0) / 1e9);
                history.add(e);
                log.accept(line(e));
            }
            return new Result(Prompt.learned(best.promptL(), length, dim), Prompt.learned(best.promptR(), length, dim),
                    best.epoch(), history);
        }
    }

    /** Sums over one epoch's finite steps: term values and per-term gradient norms; skipped steps; the last lr. */
    private record EpochSums(double[] values, double[] normL, double[] normR, int skipped, double lastLearningRate) {}

    /** One pass over {@code train} in a fresh random order; {@code step} is the global step the epoch starts at. */
    private EpochSums trainEpoch(NDManager root, LearnablePrompt l, LearnablePrompt r, NDArray velL, NDArray velR,
            PatchedSet train, NoiseSource rng, int step, int total) {
        int n = train.size();
        int[] order = Permutations.random(n, rng::nextInt);
        double[] sums = new double[3];
        double[] normL = new double[3];
        double[] normR = new double[3];
        double lr = 0;
        int skipped = 0;
        for (int from = 0; from < n; from += opt.batch(), step++) {
            int[] idx = java.util.Arrays.copyOfRange(order, from, Math.min(n, from + opt.batch()));
            lr = opt.learningRate() * 0.5 * (1 + Math.cos(Math.PI * step / total));
            TuningLoss.Step st = loss.step(root, l, r, train, idx, rng.split());
            double[] nl = TuningLoss.norms(st.gradL());
            double[] nr = TuningLoss.norms(st.gradR());
            if (!finite(st.values(), weights()) || !finite(nl, st.gradL()) || !finite(nr, st.gradR())) {
                skipped++; // a non-finite loss or gradient must not poison the prompts: drop this step
                continue;
            }
            for (int t = 0; t < 3; t++) {
                sums[t] += st.values()[t];
                normL[t] += nl[t];
                normR[t] += nr[t];
            }
            sgd(l.learnable(), velL, TuningLoss.combine(st.gradL(), nl, opt.clip(), opt.maxGradNorm()), lr, root);
            sgd(r.learnable(), velR, TuningLoss.combine(st.gradR(), nr, opt.clip(), opt.maxGradNorm()), lr, root);
        }
        return new EpochSums(sums, normL, normR, skipped, lr);
    }

    /** A validated state: {accuracy or NaN, raw IoU, refined IoU} and the prompts' values then. */
    private record Validated(int epoch, double[] scores, float[] promptL, float[] promptR) {}

    /** Better on raw-mask IoU, then on restored accuracy (NaN when the restoration is not scored). */
    private static boolean better(double[] v, double[] best) {
        if (v[1] != best[1]) {
            return v[1] > best[1];
        }
        return !Double.isNaN(v[0]) && !Double.isNaN(best[0]) && v[0] > best[0];
    }

    private static String line(Epoch e) {
        String val = e.validationIou() == null ? "" : String.format(Locale.ROOT, "  validation: raw-mask IoU %.3f, "
                + "refined IoU %.3f%s", e.validationIou(), e.validationRefinedIou(), e.validationAccuracy() == null
                        ? "" : String.format(Locale.ROOT, ", restored accuracy %.3f", e.validationAccuracy()));
        if (e.epoch() == 0) {
            return "tune-prompts epoch 0 (starting prompts, no step)" + val + String.format(Locale.ROOT, "  %.1f s",
                    e.seconds());
        }
        return String.format(Locale.ROOT, "tune-prompts epoch %d  loss %.4f (bce %s, l1 %s, d %s)  |grad| L "
                + "[mask %s, l1 %s, d %s] R [l1 %s, d %s]  lr %.5f%s%s  %.1f s", e.epoch(), e.loss(), num(e.bce()),
                num(e.l1()), num(e.feature()), num(e.gradNormL()[0]), num(e.gradNormL()[1]), num(e.gradNormL()[2]),
                num(e.gradNormR()[1]), num(e.gradNormR()[2]), e.learningRate(), e.skippedSteps() > 0 ? "  skipped "
                        + e.skippedSteps()
                        + " non-finite step(s)" : "", val, e.seconds());
    }

    /** A logged number, or "–" for a term not computed. */
    private static String num(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.4g", v);
    }

    /** ‖∂(w_t·term_t)/∂prompt‖ per term of one step on all of {@code set} from the starting prompts (for tests). */
    double[][] gradientNorms(PatchedSet set) {
        NoiseSource rng = new NoiseSource(opt.seed());
        try (NDManager root = NDManager.newBaseManager()) {
            LearnablePrompt l = LearnablePrompt.start(model, root, opt.tokens(), opt.initL(), opt.initStd(), rng);
            LearnablePrompt r = LearnablePrompt.start(model, root, opt.tokens(), opt.initR(), opt.initStd(), rng);
            l.learnable().setRequiresGradient(opt.tuneL());
            r.learnable().setRequiresGradient(opt.tuneR());
            int[] all = new int[set.size()];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            TuningLoss.Step st = loss.step(root, l, r, set, all, rng.split());
            return new double[][] {TuningLoss.norms(st.gradL()), TuningLoss.norms(st.gradR())};
        }
    }

    /** The starting prompts' full sequences {L, R} as the defence would use them (for tests). */
    Prompt[] startingPrompts() {
        NoiseSource rng = new NoiseSource(opt.seed());
        try (NDManager root = NDManager.newBaseManager()) {
            LearnablePrompt l = LearnablePrompt.start(model, root, opt.tokens(), opt.initL(), opt.initStd(), rng);
            LearnablePrompt r = LearnablePrompt.start(model, root, opt.tokens(), opt.initR(), opt.initStd(), rng);
            return new Prompt[] {Prompt.learned(l.values(root), length, dim), Prompt.learned(r.values(root), length,
                    dim)};
        }
    }

    private void sgd(NDArray p, NDArray velocity, float[] grad, double lr, NDManager root) {
        if (grad == null) {
            return;
        }
        try (NDManager s = root.newSubManager()) {
            NDArray g = s.create(grad, p.getShape());
            NDArray decay = p.stopGradient().mul((float) opt.weightDecay());
            decay.attach(s);
            velocity.muli((float) opt.momentum()).addi(g.add(decay));
            NDArray delta = velocity.mul((float) lr);
            delta.attach(s);
            p.subi(delta);
            AdamW.zeroGradient(p, s);
        }
    }

    /** The defence with the current prompts, scored on fixed noise. */
    private TuningValidation validation(LearnablePrompt l, LearnablePrompt r, NDManager root) {
        Diffender d = new Diffender(model, base.withPrompts(Prompt.learned(l.values(root), length, dim),
                Prompt.learned(r.values(root), length, dim)));
        return new TuningValidation(d, classifier, loss.restores(), opt.validationSeed());
    }

    private static Double accuracy(double[] v) {
        return Double.isNaN(v[0]) ? null : v[0];
    }

    private static double[] nan3() {
        return new double[] {Double.NaN, Double.NaN, Double.NaN};
    }

    private double[] weights() {
        return new double[] {opt.maskWeight(), opt.l1Weight(), opt.featureWeight()};
    }

    /** Every computed entry (weight > 0) is finite. */
    private static boolean finite(double[] v, double[] weights) {
        for (int t = 0; t < 3; t++) {
            if (weights[t] > 0 && !Double.isFinite(v[t])) {
                return false;
            }
        }
        return true;
    }

    /** Every norm of a gradient that exists is finite. */
    private static boolean finite(double[] norms, float[][] grads) {
        for (int t = 0; t < 3; t++) {
            if (grads[t] != null && !Double.isFinite(norms[t])) {
                return false;
            }
        }
        return true;
    }

    private static double zeroIfNan(double v) {
        return Double.isNaN(v) ? 0 : v;
    }

    private static double[] scale(double[] v, int n) {
        return new double[] {v[0] / n, v[1] / n, v[2] / n};
    }
}
