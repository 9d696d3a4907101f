package org.lustra.attack;

import java.util.SplittableRandom;

/**
 * Universal adversarial patch (Brown et al., "Adversarial Patch", 2017): one square patch is optimised over batches of
 * <em>training</em> images with the patch at random placements (expectation over placements) and then pasted at a
 * random location of each test image; the patch never sees the test images.
 *
 * <p>Brown et al.'s patch is <b>targeted</b> (signed descent on the cross-entropy of one target class); an untargeted
 * universal patch (ascent on the true class's cross-entropy) is also available. {@link #trainBest} trains one targeted
 * patch per class and keeps the one that fools the most held-out training images — the harness default, because on
 * Fashion-MNIST the untargeted universal patch barely works (≈ 95 % robust accuracy at 5 %).
 */
public final class AdvPatch {

    /** Untargeted: ascend the true class's cross-entropy. */
    public static final int UNTARGETED = -1;

    /**
     * Settings; default 5 % patch, 100 steps of batch 32, step 0.05, untargeted. {@code target} is a class index
     * (targeted) or {@link #UNTARGETED}.
     */
    public record Options(double fraction, int steps, int batch, double stepSize, long seed, int target) {
        public Options(double fraction, int steps, int batch, double stepSize, long seed) {
            this(fraction, steps, batch, stepSize, seed, UNTARGETED);
        }

        public Options {
            if (target < UNTARGETED) {
                throw new IllegalArgumentException("AdvP target must be a class index ≥ 0 or UNTARGETED (-1), got "
                        + target);
            }
            if (!(fraction > 0 && fraction < 1) || steps < 1 || batch < 1 || !(stepSize > 0)) {
                throw new IllegalArgumentException("Invalid AdvP: fraction " + fraction + ", steps " + steps
                        + ", batch " + batch + ", step size " + stepSize
                        + " (need 0 < fraction < 1, steps ≥ 1, batch ≥ 1, step size > 0)");
            }
        }

        public static Options defaults(long seed) {
            return new Options(0.05, 100, 32, 0.05, seed);
        }
    }

    /** A patch from {@link #trainBest}: its target class and the share of held-out training images it fooled. */
    public record Trained(float[] patch, int target, double heldOutFoolRate, double[] foolRateByTarget) {}

    private AdvPatch() {}

    /**
     * Trains one targeted patch per class on the first part of {@code train} and keeps the one that fools the most
     * images of the held-out rest (the last quarter, at random placements), ties to the lower class. Costs
     * {@code classes} times {@link #train}.
     */
    public static Trained trainBest(AttackModel model, float[] train, int[] trainLabels, Options opt) {
        int n = trainLabels.length;
        int d = Math.toIntExact(model.imageShape().size());
        if (n < 8 || train.length != n * d) {
            throw new IllegalArgumentException("AdvP needs at least 8 training images with labels, got " + n);
        }
        int fit = n - n / 4;
        float[] fitX = java.util.Arrays.copyOf(train, fit * d);
        int[] fitY = java.util.Arrays.copyOf(trainLabels, fit);
        float[] heldX = java.util.Arrays.copyOfRange(train, fit * d, n * d);
        int[] heldY = java.util.Arrays.copyOfRange(trainLabels, fit, n);
        int classes = model.logits(java.util.Arrays.copyOf(train, d), 1).length;
        double[] rates = new double[classes];
        float[] best = null;
        int bestTarget = -1;
        for (int t = 0; t < classes; t++) {
            Options o = new Options(opt.fraction(), opt.steps(), opt.batch(), opt.stepSize(), opt.seed() + t, t);
            float[] patch = train(model, fitX, fitY, o);
            Patch.Result r = apply(model, patch, heldX, heldY, opt.fraction(), opt.seed() ^ 0x5EEDL);
            rates[t] = 1 - r.robustAccuracy();
            if (best == null || rates[t] > rates[bestTarget]) {
                best = patch;
                bestTarget = t;
            }
        }
        return new Trained(best, bestTarget, rates[bestTarget], rates);
    }

    /** Optimises the universal patch (C·s·s floats) on {@code train} images (flat, with labels). */
    public static float[] train(AttackModel model, float[] train, int[] trainLabels, Options opt) {
        int c = (int) model.imageShape().get(0);
        int h = (int) model.imageShape().get(1);
        int w = (int) model.imageShape().get(2);
        int d = c * h * w;
        int s = Patch.side(opt.fraction(), h, w);
        int ps = c * s * s;
        if (trainLabels.length == 0 || train.length != trainLabels.length * d) {
            throw new IllegalArgumentException("AdvP needs training images: got " + trainLabels.length);
        }
        SplittableRandom rng = new SplittableRandom(opt.seed());
        float[] patch = new float[ps];
        for (int j = 0; j < ps; j++) {
            patch[j] = (float) rng.nextDouble();
        }
        boolean targeted = opt.target() != UNTARGETED;
        double step = targeted ? -opt.stepSize() : opt.stepSize(); // descend the target's CE, ascend the true one's
        int b = Math.min(opt.batch(), trainLabels.length);
        for (int it = 0; it < opt.steps(); it++) {
            float[] batch = new float[b * d];
            int[] y = new int[b];
            Patch.Place[] places = new Patch.Place[b];
            for (int t = 0; t < b; t++) {
                int i = rng.nextInt(trainLabels.length);
                System.arraycopy(train, i * d, batch, t * d, d);
                y[t] = targeted ? opt.target() : trainLabels[i];
                places[t] = Patch.Place.random(s, h, w, rng);
                Patch.paste(batch, t, patch, 0, s, places[t], c, h, w);
            }
            AttackModel.Evaluation ev = model.evaluate(batch, b, AttackModel.Loss.CE, y, null);
            float[] g = new float[ps];
            for (int t = 0; t < b; t++) {
                Patch.gatherGradient(g, 0, ev.gradient(), t, s, places[t], c, h, w);
            }
            Patch.signAscent(patch, g, 0, ps, step);
        }
        return patch;
    }

    /** Pastes {@code patch} at a random location (seeded) of every image and checks the predictions. */
    public static Patch.Result apply(AttackModel model, float[] patch, float[] x, int[] labels, double fraction,
            long seed) {
        int n = labels.length;
        int c = (int) model.imageShape().get(0);
        int h = (int) model.imageShape().get(1);
        int w = (int) model.imageShape().get(2);
        int s = Patch.side(fraction, h, w);
        if (patch.length != c * s * s) {
            throw new IllegalArgumentException("Patch has " + patch.length + " values, expected " + c * s * s);
        }
        long before = model.forwardImages();
        SplittableRandom rng = new SplittableRandom(seed);
        float[] adv = x.clone();
        float[] masks = new float[n * h * w];
        for (int i = 0; i < n; i++) {
            Patch.Place p = Patch.Place.random(s, h, w, rng);
            Patch.paste(adv, i, patch, 0, s, p, c, h, w);
            Patch.markMask(masks, i, s, p, h, w);
        }
        float[] logits = model.logits(adv, n);
        int k = logits.length / n;
        boolean[] fooled = new boolean[n];
        for (int i = 0; i < n; i++) {
            fooled[i] = LogitRows.misclassified(logits, i, k, labels[i]);
        }
        return new Patch.Result(adv, masks, fooled, model.forwardImages() - before);
    }
}
