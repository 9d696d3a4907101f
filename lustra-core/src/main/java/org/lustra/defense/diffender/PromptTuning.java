package org.lustra.defense.diffender;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import org.lustra.attack.AttackModel;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSchedule;
import org.lustra.diffusion.NoiseSource;
import org.lustra.model.Classifier;
import org.lustra.nn.AdamW;
import org.lustra.nn.PromptEncoder;
import org.lustra.nn.Scalars;
import org.lustra.util.Permutations;

/**
 * DIFFender's few-shot prompt tuning (Kang et al., ECCV 2024, §3.3; SPEC §4.4). Two prompts of n learnable token
 * vectors, {@code [SOS | V1..Vn | EOS pad…]} (CoOp style), everything else frozen. On a handful of patched training
 * images with their true masks and clean originals the loss is
 * <pre>L = BCE(M, σ(k(Z − θ))) + ‖x_r − x‖₁ + d(x_r, x)</pre>
 * — the paper's Eq. 3 (a real per-pixel BCE on the z-score map; not the official code's bounded two-logit form), the
 * ℓ1 restoration error and Eq. 5 (squared distance of channel-unit-normalised classifier features per stage, spatial
 * mean, uniform channel weights; the official code uses LPIPS instead, which does not exist here).
 *
 * <p>Gradients reach both prompts: prompt_L through the straight-through mask into the restoration and through the BCE;
 * prompt_R through every DDIM step of the restoration, kept in one autograd graph (the official code cannot: its
 * inpainting runs without gradients). SGD with momentum, weight decay and a cosine learning rate (official: lr 0.002,
 * momentum 0.9, wd 5e−4, 50 epochs, batch 1); ours adds a gradient-norm clip at {@link #MAX_GRAD_NORM} and skips a step
 * whose loss or gradient is not finite (logged). The epoch kept is the one with the best validation score
 * (mask IoU, then restored accuracy), checked every {@code validateEvery} epochs. IoU comes first because on our data a
 * 5 % AdvP patch barely changes the classifier's accuracy, which left the accuracy flat across epochs.
 */
public final class PromptTuning {

    /**
     * @param tokens learnable vectors per prompt (n = 16)
     * @param epochs passes over the few-shot set
     * @param batch images per step (official 1)
     * @param sharpness k of the soft mask σ(k(Z − θ)) in the BCE
     * @param maskLoss, l1Loss, featureLoss which terms to use (ablations)
     * @param tuneL, tuneR which prompts learn (the other stays at its start)
     * @param initL, initR words to start from (null: random, std {@code initStd})
     * @param restoreSteps DDIM steps of the restoration while tuning (the defence itself uses its own setting)
     */
    public record Options(int tokens, int epochs, int batch, double learningRate, double momentum,
            double weightDecay, double initStd, String initL, String initR, double sharpness, boolean maskLoss,
            boolean l1Loss, boolean featureLoss, boolean tuneL, boolean tuneR, int restoreSteps, int validateEvery,
            long seed) {
        public Options {
            if (tokens < 1 || epochs < 1 || batch < 1 || !(learningRate > 0) || momentum < 0 || momentum >= 1
                    || weightDecay < 0 || !(initStd > 0) || !(sharpness > 0) || restoreSteps < 1 || validateEvery < 1
                    || !(maskLoss || l1Loss || featureLoss) || !(tuneL || tuneR)) {
                throw new IllegalArgumentException("Invalid prompt tuning: tokens " + tokens + ", epochs " + epochs
                        + ", batch " + batch + ", lr " + learningRate + ", momentum " + momentum + ", wd "
                        + weightDecay + ", init std " + initStd + ", sharpness " + sharpness + ", restore steps "
                        + restoreSteps + ", validate every " + validateEvery + ", losses " + maskLoss + "/" + l1Loss
                        + "/" + featureLoss + ", tune " + tuneL + "/" + tuneR + " (need positive sizes, 0 ≤ momentum"
                        + " < 1, at least one loss and one prompt)");
            }
        }

        /** The official settings (SPEC §4.4), restoration at 10 DDIM steps while tuning. */
        public static Options defaults(long seed) {
            return new Options(16, 50, 1, 0.002, 0.9, 5e-4, 0.02, null, null, 2.0, true, true, true, true, true, 10,
                    5, seed);
        }

        public Options withEpochs(int e) {
            return new Options(tokens, e, batch, learningRate, momentum, weightDecay, initStd, initL, initR,
                    sharpness, maskLoss, l1Loss, featureLoss, tuneL, tuneR, restoreSteps, validateEvery, seed);
        }

        public Options withLearningRate(double lr) {
            return new Options(tokens, epochs, batch, lr, momentum, weightDecay, initStd, initL, initR, sharpness,
                    maskLoss, l1Loss, featureLoss, tuneL, tuneR, restoreSteps, validateEvery, seed);
        }

        public Options withLosses(boolean mask, boolean l1, boolean feature) {
            return new Options(tokens, epochs, batch, learningRate, momentum, weightDecay, initStd, initL, initR,
                    sharpness, mask, l1, feature, tuneL, tuneR, restoreSteps, validateEvery, seed);
        }

        public Options withInit(String l, String r) {
            return new Options(tokens, epochs, batch, learningRate, momentum, weightDecay, initStd, l, r, sharpness,
                    maskLoss, l1Loss, featureLoss, tuneL, tuneR, restoreSteps, validateEvery, seed);
        }

        public Options withRestoreSteps(int s) {
            return new Options(tokens, epochs, batch, learningRate, momentum, weightDecay, initStd, initL, initR,
                    sharpness, maskLoss, l1Loss, featureLoss, tuneL, tuneR, s, validateEvery, seed);
        }

        public Options withValidateEvery(int v) {
            return new Options(tokens, epochs, batch, learningRate, momentum, weightDecay, initStd, initL, initR,
                    sharpness, maskLoss, l1Loss, featureLoss, tuneL, tuneR, restoreSteps, v, seed);
        }
    }

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

    /** One epoch: mean training losses and, when validated, the validation scores. */
    public record Epoch(int epoch, double loss, double bce, double l1, double feature, double learningRate,
            Double validationAccuracy, Double validationIou, double seconds) {}

    /** The tuned prompts (full token sequences) and the record of how they were chosen. */
    public record Result(Prompt promptL, Prompt promptR, int bestEpoch, List<Epoch> history) {}

    private final DiffusionModel model;
    private final Classifier classifier;
    private final Diffender.Options base;
    private final Options opt;
    private final int length;
    private final int dim;
    private final PatchLocalizer localizer;

    /**
     * @param base the DIFFender settings the prompts are tuned for (localisation options, restoration guidance);
     *     its prompts are replaced
     */
    public PromptTuning(DiffusionModel model, Classifier classifier, Diffender.Options base, Options opt) {
        org.lustra.nn.ConvolutionCheck.require(); // the prompts' gradients pass through UNet convolution backward
        this.model = model;
        this.classifier = classifier;
        this.base = base;
        this.opt = opt;
        this.length = model.config().contextLength();
        this.dim = model.encoder().dim();
        this.localizer = new PatchLocalizer(model, base.localization());
        if (opt.tokens() > length - 2) {
            throw new IllegalArgumentException("Prompt tuning with " + opt.tokens() + " tokens needs a context of at "
                    + "least " + (opt.tokens() + 2) + "; this model's is " + length);
        }
    }

    /** Tunes on {@code train}, chooses the epoch on {@code validation}; progress lines go to {@code log}. */
    public Result tune(PatchedSet train, PatchedSet validation, Consumer<String> log) {
        NoiseSource rng = new NoiseSource(opt.seed());
        try (NDManager root = NDManager.newBaseManager()) {
            NDArray fixed = fixedRows(root); // (L, D): SOS at 0, EOS at n+1, pads after; rows 1..n are replaced
            NDArray vl = init(root, opt.initL(), rng);
            NDArray vr = init(root, opt.initR(), rng);
            NDArray velL = root.zeros(vl.getShape());
            NDArray velR = root.zeros(vr.getShape());
            vl.setRequiresGradient(opt.tuneL());
            vr.setRequiresGradient(opt.tuneR());
            List<Epoch> history = new ArrayList<>();
            int n = train.size();
            int stepsPerEpoch = (n + opt.batch() - 1) / opt.batch();
            int total = opt.epochs() * stepsPerEpoch;
            double bestAcc = -1;
            double bestIou = -1;
            int bestEpoch = 0;
            float[] bestL = sequence(root, fixed, vl);
            float[] bestR = sequence(root, fixed, vr);
            int step = 0;
            for (int epoch = 1; epoch <= opt.epochs(); epoch++) {
                long t0 = System.nanoTime();
                int[] order = Permutations.random(n, rng::nextInt);
                double sum = 0;
                double sumBce = 0;
                double sumL1 = 0;
                double sumFeat = 0;
                double lr = 0;
                int skipped = 0;
                for (int b = 0; b < stepsPerEpoch; b++) {
                    int[] idx = java.util.Arrays.copyOfRange(order, b * opt.batch(), Math.min(n, (b + 1) * opt.batch()));
                    lr = opt.learningRate() * 0.5 * (1 + Math.cos(Math.PI * step / total));
                    double[] parts = step(root, fixed, vl, vr, train, idx, rng.split());
                    double gl = opt.tuneL() ? gradientNorm(vl, root) : 0;
                    double gr = opt.tuneR() ? gradientNorm(vr, root) : 0;
                    if (!Double.isFinite(parts[0]) || !Double.isFinite(gl) || !Double.isFinite(gr)) {
                        skipped++; // a non-finite loss or gradient must not poison the prompts: drop this step
                        try (NDManager s = root.newSubManager()) {
                            AdamW.zeroGradient(vl, s);
                            AdamW.zeroGradient(vr, s);
                        }
                        step++;
                        continue;
                    }
                    sum += parts[0];
                    sumBce += parts[1];
                    sumL1 += parts[2];
                    sumFeat += parts[3];
                    sgd(vl, velL, lr, gl, opt.tuneL(), root);
                    sgd(vr, velR, lr, gr, opt.tuneR(), root);
                    step++;
                }
                if (skipped > 0) {
                    log.accept("tune-prompts epoch " + epoch + ": skipped " + skipped + " step(s) with a non-finite "
                            + "loss or gradient");
                }
                int used = Math.max(1, stepsPerEpoch - skipped);
                Double acc = null;
                Double iou = null;
                if (epoch % opt.validateEvery() == 0 || epoch == opt.epochs()) {
                    double[] v = validate(root, fixed, vl, vr, validation);
                    acc = v[0];
                    iou = v[1];
                    if (iou > bestIou || (iou == bestIou && acc > bestAcc)) {
                        bestAcc = acc;
                        bestIou = iou;
                        bestEpoch = epoch;
                        bestL = sequence(root, fixed, vl);
                        bestR = sequence(root, fixed, vr);
                    }
                }
                Epoch e = new Epoch(epoch, sum / used, sumBce / used, sumL1 / used, sumFeat / used, lr, acc, iou,
                        (System.nanoTime() - t0) / 1e9);
                history.add(e);
                log.accept(String.format(java.util.Locale.ROOT, "tune-prompts epoch %d/%d  loss %.4f (bce %.4f, l1 "
                        + "%.4f, d %.4f)  lr %.5f%s  %.1f s", epoch, opt.epochs(), e.loss(), e.bce(), e.l1(),
                        e.feature(), lr, acc == null ? "" : String.format(java.util.Locale.ROOT,
                                "  validation: restored accuracy %.3f, mask IoU %.3f", acc, iou), e.seconds()));
            }
            return new Result(Prompt.learned(bestL, length, dim), Prompt.learned(bestR, length, dim), bestEpoch,
                    history);
        }
    }

    /** ‖∂L/∂prompt_L‖ and ‖∂L/∂prompt_R‖ of one step on all of {@code set}, from the initial prompts (for tests). */
    double[] gradientNorms(PatchedSet set) {
        NoiseSource rng = new NoiseSource(opt.seed());
        try (NDManager root = NDManager.newBaseManager()) {
            NDArray fixed = fixedRows(root);
            NDArray vl = init(root, opt.initL(), rng);
            NDArray vr = init(root, opt.initR(), rng);
            vl.setRequiresGradient(true);
            vr.setRequiresGradient(true);
            int[] all = new int[set.size()];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            step(root, fixed, vl, vr, set, all, rng.split());
            return new double[] {gradientNorm(vl, root), gradientNorm(vr, root)};
        }
    }

    private static double gradientNorm(NDArray p, NDManager root) {
        try (NDManager scratch = root.newSubManager()) {
            NDArray g = p.getGradient();
            g.attach(scratch);
            double s = 0;
            for (float v : g.toFloatArray()) {
                s += (double) v * v;
            }
            return Math.sqrt(s);
        }
    }

    /** Loss terms of one step and the gradient step's gradients left on vl/vr; returns {total, bce, l1, d}. */
    private double[] step(NDManager root, NDArray fixed, NDArray vl, NDArray vr, PatchedSet set, int[] idx,
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
        try (NDManager m = root.newSubManager()) {
            NDArray x = m.create(adv, new Shape(b, c, s, s));
            NDArray xc = m.create(clean, new Shape(b, c, s, s));
            NDArray truth = m.create(mask, new Shape(b, 1, s, s));
            double[] out = new double[4];
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray seqL = withTokens(m, fixed, vl);
                NDArray seqR = withTokens(m, fixed, vr);
                PatchLocalizer.Localization loc = localizer.localize(x, Prompt.live(seqL), noise);
                NDArray restored = restore(x, loc.mask(), Prompt.live(seqR).context(model, m, b), noise);
                NDArray loss = m.zeros(new Shape(1));
                if (opt.maskLoss()) {
                    NDArray p = ai.djl.nn.Activation.sigmoid(Scalars.mul(loc.zScores().sub(
                            (float) base.localization().theta()), opt.sharpness())).clip(1e-6f, 1 - 1e-6f);
                    NDArray bce = truth.mul(p.log()).add(truth.sub(1f).neg().mul(p.sub(1f).neg().log())).mean()
                            .neg();
                    out[1] = bce.getFloat();
                    loss = loss.add(bce);
                }
                if (opt.l1Loss()) {
                    NDArray l1 = restored.sub(xc).abs().mean();
                    out[2] = l1.getFloat();
                    loss = loss.add(l1);
                }
                if (opt.featureLoss()) {
                    NDArray f = featureDistance(restored, xc);
                    out[3] = f.getFloat();
                    loss = loss.add(f);
                }
                out[0] = loss.getFloat();
                gc.backward(loss.sum());
            }
            return out;
        }
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

    /** Restored accuracy and mask IoU on the validation set with the current prompts (no gradient). */
    private double[] validate(NDManager root, NDArray fixed, NDArray vl, NDArray vr, PatchedSet val) {
        Diffender d = new Diffender(model, base.withPrompts(Prompt.learned(sequence(root, fixed, vl), length, dim),
                Prompt.learned(sequence(root, fixed, vr), length, dim)));
        int n = val.size();
        int c = model.config().channels();
        int s = model.config().size();
        try (NDManager m = root.newSubManager()) {
            Diffender.Result r = d.purifyWithMasks(m.create(val.adversarial(), new Shape(n, c, s, s)), opt.seed());
            float[] logits = classifier.logits(r.purified()).toFloatArray();
            float[] mask = r.localization().mask().toFloatArray();
            int k = logits.length / n;
            int ok = 0;
            double iou = 0;
            for (int i = 0; i < n; i++) {
                ok += AttackModel.argMax(logits, i, k) == val.labels()[i] ? 1 : 0;
                iou += PatchLocalizer.maskScores(mask, i * s * s, val.masks(), i * s * s, s * s)[0];
            }
            return new double[] {(double) ok / n, iou / n};
        }
    }

    /** Gradient norms above this are scaled down to it (one odd image must not throw a prompt away). */
    static final double MAX_GRAD_NORM = 1.0;

    private void sgd(NDArray p, NDArray velocity, double lr, double gradNorm, boolean tuned, NDManager root) {
        if (!tuned) {
            return;
        }
        try (NDManager s = root.newSubManager()) {
            NDArray g = p.getGradient();
            g.attach(s);
            if (gradNorm > MAX_GRAD_NORM) {
                g = g.mul((float) (MAX_GRAD_NORM / gradNorm));
            }
            NDArray decay = p.mul((float) opt.weightDecay());
            decay.attach(s);
            velocity.muli((float) opt.momentum()).addi(g.add(decay));
            NDArray delta = velocity.mul((float) lr);
            delta.attach(s);
            p.subi(delta);
            AdamW.zeroGradient(p, s);
        }
    }

    /** Rows 0 (SOS), n+1 (EOS) and the pads after it, from the frozen embedding table; rows 1..n are zero. */
    private NDArray fixedRows(NDManager root) {
        PromptEncoder enc = model.encoder();
        int[][] ids = new int[1][length];
        ids[0][0] = PromptEncoder.SOS;
        ids[0][opt.tokens() + 1] = PromptEncoder.EOS;
        try (NDManager s = root.newSubManager()) {
            NDArray e = enc.embed(new ParameterStore(s, false), s, ids, false).get(0);
            NDArray out = e.duplicate();
            out.attach(root);
            return out;
        }
    }

    /** n learnable rows: random (std initStd) or the token embeddings of {@code words}, repeated to n. */
    private NDArray init(NDManager root, String words, NoiseSource rng) {
        if (words == null) {
            NDArray v = Scalars.mul(rng.normal(root, new Shape(opt.tokens(), dim)), opt.initStd());
            v.attach(root);
            return v;
        }
        int[] ids = model.encoder().tokenize(words);
        List<Integer> content = new ArrayList<>();
        for (int i = 1; i < ids.length && ids[i] != PromptEncoder.EOS; i++) {
            content.add(ids[i]);
        }
        if (content.isEmpty()) {
            throw new IllegalArgumentException("Cannot start a prompt from no words; give words or none (random)");
        }
        int[][] row = new int[1][length];
        row[0][0] = PromptEncoder.SOS;
        for (int i = 0; i < opt.tokens(); i++) {
            row[0][i + 1] = content.get(i % content.size());
        }
        row[0][opt.tokens() + 1] = PromptEncoder.EOS;
        try (NDManager s = root.newSubManager()) {
            NDArray e = model.encoder().embed(new ParameterStore(s, false), s, row, false).get(0)
                    .get("1:" + (opt.tokens() + 1)).duplicate();
            e.attach(root);
            return e;
        }
    }

    /** The full sequence (L, D) with {@code v} in rows 1..n, in {@code m} (differentiable in v). */
    private NDArray withTokens(NDManager m, NDArray fixed, NDArray v) {
        NDArray f = fixed.duplicate();
        f.attach(m);
        return NDArrays.concat(new NDList(f.get("0:1"), v, f.get((opt.tokens() + 1) + ":")), 0);
    }

    private float[] sequence(NDManager root, NDArray fixed, NDArray v) {
        try (NDManager s = root.newSubManager()) {
            NDArray detached = v.stopGradient();
            detached.attach(s);
            return withTokens(s, fixed, detached).toFloatArray();
        }
    }
}
