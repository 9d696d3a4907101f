package org.lustra.attack;

import java.util.SplittableRandom;

/**
 * Universal adversarial patch (Brown et al., "Adversarial Patch", 2017), untargeted: one square patch is optimised by
 * signed gradient ascent on the mean cross-entropy of the true class over batches of <em>training</em> images with
 * the patch at random placements (expectation over placements); it is then pasted at a random location of each test
 * image. The patch never sees the test images.
 */
public final class AdvPatch {

    /** Settings; default 5 % patch, 100 steps of batch 32, step 0.05. */
    public record Options(double fraction, int steps, int batch, double stepSize, long seed) {
        public Options {
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

    private AdvPatch() {}

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
        int b = Math.min(opt.batch(), trainLabels.length);
        for (int it = 0; it < opt.steps(); it++) {
            float[] batch = new float[b * d];
            int[] y = new int[b];
            Patch.Place[] places = new Patch.Place[b];
            for (int t = 0; t < b; t++) {
                int i = rng.nextInt(trainLabels.length);
                System.arraycopy(train, i * d, batch, t * d, d);
                y[t] = trainLabels[i];
                places[t] = Patch.Place.random(s, h, w, rng);
                Patch.paste(batch, t, patch, 0, s, places[t], c, h, w);
            }
            AttackModel.Evaluation ev = model.evaluate(batch, b, AttackModel.Loss.CE, y, null);
            float[] g = new float[ps];
            for (int t = 0; t < b; t++) {
                Patch.gatherGradient(g, 0, ev.gradient(), t, s, places[t], c, h, w);
            }
            Patch.signAscent(patch, g, 0, ps, opt.stepSize());
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
            fooled[i] = AttackModel.argMax(logits, i, k) != labels[i];
        }
        return new Patch.Result(adv, masks, fooled, model.forwardImages() - before);
    }
}
