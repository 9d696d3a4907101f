package org.lustra.attack;

import java.util.SplittableRandom;

/**
 * LaVAN-style localised patch (Karmon et al., "LaVAN: Localized and visible adversarial noise", ICML 2018): for each
 * image, a square at a random but fixed location whose pixels are optimised by gradient ascent on the cross-entropy
 * of the true class (untargeted; signed steps, pixels kept in [0, 1]), from uniform noise. A sample stops once
 * fooled. Batched over images.
 */
public final class LaVan {

    /** Settings; default 5 % patch, 100 steps of 0.05. */
    public record Options(double fraction, int steps, double stepSize, long seed) {
        public Options {
            if (!(fraction > 0 && fraction < 1) || steps < 1 || !(stepSize > 0)) {
                throw new IllegalArgumentException("Invalid LaVAN: fraction " + fraction + ", steps " + steps
                        + ", step size " + stepSize + " (need 0 < fraction < 1, steps ≥ 1, step size > 0)");
            }
        }

        public static Options defaults(long seed) {
            return new Options(0.05, 100, 0.05, seed);
        }
    }

    private LaVan() {}

    public static Patch.Result attack(AttackModel model, float[] x, int[] labels, Options opt) {
        int n = labels.length;
        Patch.Setup setup = Patch.Setup.draw(model, n, opt.fraction(), opt.seed());
        int c = setup.c();
        int h = setup.h();
        int w = setup.w();
        int s = setup.side();
        int ps = setup.patchSize();
        long before = model.forwardImages();
        SplittableRandom rng = setup.rng();
        Patch.Place[] places = setup.places();
        float[] patches = new float[n * ps];
        float[] masks = setup.masks();
        for (int j = 0; j < patches.length; j++) {
            patches[j] = (float) rng.nextDouble();
        }
        float[] adv = x.clone(); // deterministic target: each image's last iterate (it stops once fooled)
        boolean[] fooled = new boolean[n];
        boolean randomized = model.randomized();
        BestIterates best = new BestIterates(x, n); // randomised target: the iterate with the best EOT loss
        boolean[] none = new boolean[n];
        for (int it = 0; it <= opt.steps(); it++) {
            // against a randomised target no sample stops at a first success: all run, the best EOT loss is kept
            int[] todo = Apgd.remaining(randomized ? none : fooled);
            if (todo.length == 0) {
                break;
            }
            float[] cur = new float[todo.length * c * h * w];
            for (int t = 0; t < todo.length; t++) {
                int i = todo[t];
                System.arraycopy(x, i * c * h * w, cur, t * c * h * w, c * h * w);
                Patch.paste(cur, t, patches, i * ps, s, places[i], c, h, w);
            }
            AttackModel.Evaluation ev = model.evaluate(cur, todo.length, AttackModel.Loss.CE,
                    Apgd.gather(labels, todo), null);
            float[] g = new float[ps];
            for (int t = 0; t < todo.length; t++) {
                int i = todo[t];
                if (randomized) {
                    best.offer(i, ev.loss()[t], cur, t);
                } else {
                    System.arraycopy(cur, t * c * h * w, adv, i * c * h * w, c * h * w);
                }
                if (!randomized && LogitRows.misclassified(ev.logits(), t, ev.classes(), labels[i])) {
                    fooled[i] = true;
                    continue;
                }
                if (it < opt.steps()) {
                    java.util.Arrays.fill(g, 0f);
                    Patch.gatherGradient(g, 0, ev.gradient(), t, s, places[i], c, h, w);
                    float[] one = java.util.Arrays.copyOfRange(patches, i * ps, (i + 1) * ps);
                    Patch.signAscent(one, g, 0, ps, opt.stepSize());
                    System.arraycopy(one, 0, patches, i * ps, ps);
                }
            }
        }
        if (randomized) {
            adv = best.iterates();
            fooled = model.confirmFooled(adv, n, labels);
        }
        return new Patch.Result(adv, masks, fooled, model.forwardImages() - before);
    }
}
