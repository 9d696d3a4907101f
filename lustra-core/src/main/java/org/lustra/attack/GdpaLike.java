package org.lustra.attack;


/**
 * A GDPA-like dynamic patch attack: patch content <em>and</em> position are optimised per image. GDPA (Li and Ji,
 * "Generative dynamic patch attack", BMVC 2021) trains a generator that outputs both; here, without a generator,
 * the content follows signed gradient ascent on the cross-entropy and, every few steps, the position moves greedily
 * to the best of all placements within a small radius (all candidates scored in one batched forward). Starts at a
 * random placement with a random patch; a sample stops once fooled.
 */
public final class GdpaLike {

    /** Settings; default 5 % patch, 100 steps of 0.05, move every 5 steps within radius 3. */
    public record Options(double fraction, int steps, double stepSize, int moveEvery, int radius, long seed) {
        public Options {
            if (!(fraction > 0 && fraction < 1) || steps < 1 || !(stepSize > 0) || moveEvery < 1 || radius < 1) {
                throw new IllegalArgumentException("Invalid GDPA-like: fraction " + fraction + ", steps " + steps
                        + ", step size " + stepSize + ", move every " + moveEvery + ", radius " + radius
                        + " (need 0 < fraction < 1 and positive counts)");
            }
        }

        public static Options defaults(long seed) {
            return new Options(0.05, 100, 0.05, 5, 3, seed);
        }
    }

    private GdpaLike() {}

    public static Patch.Result attack(AttackModel model, float[] x, int[] labels, Options opt) {
        int n = labels.length;
        Patch.Setup setup = Patch.Setup.draw(model, n, opt.fraction(), opt.seed());
        int c = setup.c();
        int h = setup.h();
        int w = setup.w();
        int d = setup.imageSize();
        int s = setup.side();
        int ps = setup.patchSize();
        long before = model.forwardImages();
        Patch.Place[] places = setup.places();
        float[] patches = setup.randomPatches(n * ps);
        float[] adv = x.clone(); // deterministic target: each image's last iterate (it stops once fooled)
        boolean[] fooled = new boolean[n];
        // against a randomised target no image stops at a first success (one forward may be luck): all run full
        // length and the iterate with the best EOT loss is kept, then K fresh evaluations decide (as LaVAN does)
        boolean randomized = model.randomized();
        BestIterates best = new BestIterates(x, n);
        boolean[] none = new boolean[n];
        Patch.Place[] kept = places.clone(); // where the patch of each kept image sits (it moves during the run)
        for (int it = 0; it <= opt.steps(); it++) {
            int[] todo = Apgd.remaining(randomized ? none : fooled);
            if (todo.length == 0) {
                break;
            }
            if (it > 0 && it % opt.moveEvery() == 0) {
                move(model, x, labels, todo, patches, places, s, opt.radius(), c, h, w);
            }
            float[] cur = setup.pasted(x, todo, patches, places);
            AttackModel.Evaluation ev = model.evaluate(cur, todo.length, AttackModel.Loss.CE,
                    Apgd.gather(labels, todo), null);
            for (int t = 0; t < todo.length; t++) {
                int i = todo[t];
                if (!randomized) {
                    kept[i] = places[i];
                    System.arraycopy(cur, t * d, adv, i * d, d);
                } else if (best.offer(i, ev.loss()[t], cur, t)) {
                    kept[i] = places[i];
                }
                if (!randomized && LogitRows.misclassified(ev.logits(), t, ev.classes(), labels[i])) {
                    fooled[i] = true;
                } else if (it < opt.steps()) {
                    setup.signStep(patches, i, ev.gradient(), t, places[i], opt.stepSize());
                }
            }
        }
        if (randomized) {
            adv = best.iterates();
            fooled = model.confirmFooled(adv, n, labels);
        }
        float[] masks = new float[n * h * w];
        for (int i = 0; i < n; i++) {
            Patch.markMask(masks, i, s, kept[i], h, w);
        }
        return new Patch.Result(adv, masks, fooled, model.forwardImages() - before);
    }

    /** Moves each image's patch to the placement within the radius with the highest cross-entropy. */
    private static void move(AttackModel model, float[] x, int[] labels, int[] todo, float[] patches,
            Patch.Place[] places, int s, int radius, int c, int h, int w) {
        int d = c * h * w;
        int ps = c * s * s;
        java.util.List<int[]> cands = new java.util.ArrayList<>(); // {sample t, row, col}
        for (int t = 0; t < todo.length; t++) {
            Patch.Place p = places[todo[t]];
            for (int dr = -radius; dr <= radius; dr++) {
                for (int dc = -radius; dc <= radius; dc++) {
                    int r = p.row() + dr;
                    int cc = p.col() + dc;
                    if (r >= 0 && cc >= 0 && r + s <= h && cc + s <= w) {
                        cands.add(new int[] {t, r, cc});
                    }
                }
            }
        }
        double[] best = new double[todo.length];
        java.util.Arrays.fill(best, Double.NEGATIVE_INFINITY);
        int chunk = 1024;
        for (int from = 0; from < cands.size(); from += chunk) {
            int to = Math.min(cands.size(), from + chunk);
            float[] imgs = new float[(to - from) * d];
            for (int q = from; q < to; q++) {
                int[] cd = cands.get(q);
                int i = todo[cd[0]];
                System.arraycopy(x, i * d, imgs, (q - from) * d, d);
                Patch.paste(imgs, q - from, patches, i * ps, s, new Patch.Place(cd[1], cd[2]), c, h, w);
            }
            float[] logits = model.logits(imgs, to - from);
            int k = logits.length / (to - from);
            for (int q = from; q < to; q++) {
                int[] cd = cands.get(q);
                int i = todo[cd[0]];
                double ce = crossEntropy(logits, q - from, k, labels[i]);
                if (ce > best[cd[0]]) {
                    best[cd[0]] = ce;
                    places[i] = new Patch.Place(cd[1], cd[2]);
                }
            }
        }
    }

    static double crossEntropy(float[] logits, int row, int k, int y) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) {
            max = Math.max(max, logits[row * k + j]);
        }
        double sum = 0;
        for (int j = 0; j < k; j++) {
            sum += Math.exp(logits[row * k + j] - max);
        }
        return Math.log(sum) + max - logits[row * k + y];
    }
}
