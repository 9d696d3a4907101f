package org.lustra.attack;


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
        int d = setup.imageSize();
        long before = model.forwardImages();
        Patch.Place[] places = setup.places();
        float[] masks = setup.masks();
        float[] patches = setup.randomPatches(n * setup.patchSize());
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
            float[] cur = setup.pasted(x, todo, patches, places);
            AttackModel.Evaluation ev = model.evaluate(cur, todo.length, AttackModel.Loss.CE,
                    Apgd.gather(labels, todo), null);
            for (int t = 0; t < todo.length; t++) {
                int i = todo[t];
                if (randomized) {
                    best.offer(i, ev.loss()[t], cur, t);
                } else {
                    System.arraycopy(cur, t * d, adv, i * d, d);
                }
                if (!randomized && LogitRows.misclassified(ev.logits(), t, ev.classes(), labels[i])) {
                    fooled[i] = true;
                    continue;
                }
                if (it < opt.steps()) {
                    setup.signStep(patches, i, ev.gradient(), t, places[i], opt.stepSize());
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
