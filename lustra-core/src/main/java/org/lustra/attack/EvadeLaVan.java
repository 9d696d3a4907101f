package org.lustra.attack;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Localiser-aware evade-then-fool patch attack on a detect-then-replace defence (issue 11, 3b; SPEC §7: "an objective
 * that fools the classifier while keeping the detector's soft output low"). The patch sits where {@link LaVan} puts it
 * (same seed, same random fixed place per image); its pixels maximise J = min(margin of the bare classifier, κ) −
 * λ·(the detector's soft mask averaged over the patch, EOT over the detector's noise) with Adam, from several starts
 * run side by side: uniform noise, a natural crop of another image, and the non-adaptive LaVAN patch (optimised
 * against the bare classifier alone). λ is per image and grows by {@code lambdaGrowth} at every check where a K-vote of
 * hard detections still finds the patch (a draw detects it when its mask covers more than {@code coverage} of the
 * patch; a tie counts as detected). Each start keeps its best checked iterate (fooling the classifier unseen beats
 * either alone; then lower covered fraction); at the end every start's pick is checked end to end with K purifications
 * of the real defence and each image keeps the start with the most wrong answers, fooled by the {@link Votes} rule.
 *
 * <p>Gradients: exact through the classifier and the detector's one-step UNet calls ({@link DetectorView}); the
 * replacement step (DIFFender's restoration) never enters the loop. Without a detector (a non-adaptive cell, or a
 * defence that detects nothing) the same Adam ascent runs on the CW margin through the model's own gradient route, with
 * the random and natural starts.
 */
public final class EvadeLaVan {

    /** Where a start's patch comes from. */
    public enum Start {
        RANDOM, NATURAL, NON_ADAPTIVE
    }

    /**
     * @param fraction patch area (LaVAN's)
     * @param steps Adam steps per start
     * @param learningRate Adam's step size on [0, 1] pixels
     * @param starts the starts, run side by side (NON_ADAPTIVE is skipped without a detector)
     * @param lambda initial weight of the detection term
     * @param lambdaGrowth λ's factor at each check that still detects (≥ 1)
     * @param checkEvery steps between K-vote detection checks (the last step is always checked)
     * @param coverage a hard mask covering more than this fraction of the patch detects it
     * @param kappa cap of the classifier margin (then only evasion pays)
     * @param seed places (as LaVAN's), starts and noise
     */
    public record Options(double fraction, int steps, double learningRate, List<Start> starts, double lambda,
            double lambdaGrowth, int checkEvery, double coverage, double kappa, long seed) {
        public Options {
            starts = starts == null ? List.of() : List.copyOf(starts);
            if (!(fraction > 0 && fraction < 1) || steps < 1 || !(learningRate > 0) || starts.isEmpty()
                    || !(lambda >= 0) || !(lambdaGrowth >= 1) || checkEvery < 1 || !(coverage >= 0 && coverage < 1)
                    || !(kappa > 0) || Double.isInfinite(lambda * lambdaGrowth * kappa * learningRate)) {
                throw new IllegalArgumentException("Invalid evade-then-fool options: fraction " + fraction
                        + " (0..1), steps " + steps + " (≥ 1), learning rate " + learningRate + " (> 0), starts " + starts
                        + " (at least one), lambda " + lambda + " (≥ 0), growth " + lambdaGrowth + " (≥ 1), check every "
                        + checkEvery + " (≥ 1), coverage " + coverage + " (0 ≤ c < 1), kappa " + kappa + " (> 0)");
            }
        }

        /** Defaults: Adam 0.03, all three starts, λ 1 doubled per detecting check every 25 steps, coverage 0.25, κ 2. */
        public static Options defaults(double fraction, int steps, long seed) {
            return new Options(fraction, steps, 0.03, List.of(Start.RANDOM, Start.NATURAL, Start.NON_ADAPTIVE), 1.0,
                    2.0, 25, 0.25, 2.0, seed);
        }
    }

    /** Gradient rows per engine call of the objective (images × EOT copies), to bound the autograd graph. */
    static final int MAX_ROWS = 64;

    private EvadeLaVan() {}

    /**
     * Attacks the n images {@code x} (flat) with true {@code labels}. {@code sources} (flat images of the same shape, or
     * null) give the natural crops; without them a crop comes from another image of the batch.
     */
    public static Patch.Result attack(AttackModel model, float[] x, int[] labels, float[] sources, Options opt) {
        int n = labels.length;
        // LaVAN's draw, first: the same seed puts the patch at LaVAN's place
        Patch.Setup setup = Patch.Setup.draw(model, n, opt.fraction(), opt.seed());
        int c = setup.c();
        int h = setup.h();
        int w = setup.w();
        int d = setup.imageSize();
        int s = setup.side();
        int ps = setup.patchSize();
        long before = model.forwardImages();
        SplittableRandom rng = setup.rng();
        Patch.Place[] places = setup.places();
        float[] masks = setup.masks();
        boolean detector = model.detector() != null;
        List<Start> starts = opt.starts().stream().filter(st -> detector || st != Start.NON_ADAPTIVE).toList();
        int r = starts.size();
        int nv = r * n; // start-major virtual images: v = start·n + i
        float[] patches = new float[nv * ps];
        for (int k = 0; k < r; k++) {
            initialise(starts.get(k), patches, k * n, model, x, labels, sources, places, s, opt, rng.split());
        }
        float[] xs = tile(x, r);
        int[] ys = tile(labels, r);
        float[] vmasks = tile(masks, r);
        Patch.Place[] vplaces = new Patch.Place[nv];
        for (int v = 0; v < nv; v++) {
            vplaces[v] = places[v % n];
        }
        EvadeSearch search = new EvadeSearch(nv, ps, d, opt);
        float[] cur = xs.clone();
        for (int it = 0; it < opt.steps(); it++) {
            pasteAll(cur, patches, vplaces, setup);
            if (it == 0) { // the starts themselves are candidates until a better iterate is seen
                System.arraycopy(cur, 0, search.best, 0, cur.length);
            }
            float[] grad = gradient(model, cur, nv, ys, vmasks, search.lambda, opt.kappa(), search);
            boolean check = (it + 1) % opt.checkEvery() == 0;
            if (check && detector) {
                search.check(model, cur, ys, vmasks, opt);
            }
            float[] g = new float[ps];
            for (int v = 0; v < nv; v++) {
                Arrays.fill(g, 0f);
                Patch.gatherGradient(g, 0, grad, v, s, vplaces[v], c, h, w);
                search.adam(patches, v, g, it + 1);
            }
        }
        pasteAll(cur, patches, vplaces, setup); // the final iterate is always a candidate
        gradient(model, cur, nv, ys, vmasks, search.lambda, opt.kappa(), search);
        if (detector) {
            search.check(model, cur, ys, vmasks, opt);
        }
        float[] adv = new float[n * d];
        boolean[] fooled = pickEndToEnd(model, search.best, n, r, d, labels, adv);
        requireInRange(adv);
        return new Patch.Result(adv, masks, fooled, model.forwardImages() - before);
    }

    /** The objective's gradient for all virtual images, in chunks of at most {@link #MAX_ROWS} rows. */
    /** Pastes every virtual image's patch into {@code cur} at its place. */
    private static void pasteAll(float[] cur, float[] patches, Patch.Place[] vplaces, Patch.Setup setup) {
        int ps = setup.patchSize();
        for (int v = 0; v < vplaces.length; v++) {
            Patch.paste(cur, v, patches, v * ps, setup.side(), vplaces[v], setup.c(), setup.h(), setup.w());
        }
    }

    /** A pixel outside [0, 1] or non-finite is a bug here (gradients are sanitised, patches clipped), never a result. */
    private static void requireInRange(float[] adv) {
        for (float v : adv) {
            if (!Float.isFinite(v) || v < 0f || v > 1f) {
                throw new IllegalStateException("Evade-then-fool produced a pixel " + v + " outside [0, 1]; this is a "
                        + "bug (gradients are sanitised and patches clipped), not a result.");
            }
        }
    }

    private static float[] gradient(AttackModel model, float[] cur, int nv, int[] ys, float[] vmasks, float[] lambda,
            double kappa, EvadeSearch search) {
        int d = model.imageSize();
        int plane = vmasks.length / nv;
        float[] grad = new float[nv * d];
        if (model.detector() == null) {
            AttackModel.Evaluation ev = model.evaluate(cur, nv, AttackModel.Loss.MARGIN, ys, null);
            search.logits = ev.logits();
            search.classes = ev.classes();
            search.keepIfBetter(cur, ev.loss());
            return ev.gradient();
        }
        int per = Math.max(1, MAX_ROWS / (1 + model.eot()));
        for (int from = 0; from < nv; from += per) {
            int to = Math.min(nv, from + per);
            EvasionObjective.Value val = EvasionObjective.evaluate(model, Arrays.copyOfRange(cur, from * d, to * d),
                    to - from, Arrays.copyOfRange(ys, from, to), Arrays.copyOfRange(vmasks, from * plane, to * plane),
                    Arrays.copyOfRange(lambda, from, to), kappa);
            System.arraycopy(val.gradient(), 0, grad, from * d, (to - from) * d);
            search.record(from, val);
        }
        return grad;
    }

    /**
     * Each image keeps, of its r starts' picks, the one the real defence gets wrong most often in K fresh evaluations
     * (ties: the earlier start); returns whether the kept input fools the {@link Votes} majority.
     */
    private static boolean[] pickEndToEnd(AttackModel model, float[] best, int n, int r, int d, int[] labels,
            float[] adv) {
        int votes = model.votes();
        int[][][] answers = new int[r][n][votes];
        for (int k = 0; k < r; k++) {
            float[] part = Arrays.copyOfRange(best, k * n * d, (k + 1) * n * d);
            for (int v = 0; v < votes; v++) {
                float[] z = model.logits(part, n);
                int classes = z.length / n;
                for (int i = 0; i < n; i++) {
                    answers[k][i][v] = LogitRows.finiteRow(z, i, classes) ? LogitRows.argMax(z, i, classes) : -1;
                }
            }
        }
        boolean[] fooled = new boolean[n];
        for (int i = 0; i < n; i++) {
            int pick = 0;
            int most = -1;
            for (int k = 0; k < r; k++) {
                int wrong = 0;
                for (int a : answers[k][i]) {
                    wrong += a != labels[i] ? 1 : 0;
                }
                if (wrong > most) {
                    most = wrong;
                    pick = k;
                }
            }
            System.arraycopy(best, (pick * n + i) * d, adv, i * d, d);
            fooled[i] = Votes.majority(answers[pick][i], labels[i]) != labels[i];
        }
        return fooled;
    }

    private static void initialise(Start start, float[] patches, int offset, AttackModel model, float[] x,
            int[] labels, float[] sources, Patch.Place[] places, int s, Options opt, SplittableRandom rng) {
        int n = labels.length;
        int c = (int) model.imageShape().get(0);
        int h = (int) model.imageShape().get(1);
        int w = (int) model.imageShape().get(2);
        int d = c * h * w;
        int ps = c * s * s;
        switch (start) {
            case RANDOM -> {
                for (int j = offset * ps; j < (offset + n) * ps; j++) {
                    patches[j] = (float) rng.nextDouble();
                }
            }
            case NATURAL -> {
                int count = sources == null ? 0 : sources.length / d;
                for (int i = 0; i < n; i++) {
                    float[] from = count > 0 ? sources : x;
                    int img = count > 0 ? rng.nextInt(count) : n > 1 ? (i + 1 + rng.nextInt(n - 1)) % n : i;
                    crop(from, img, new Patch.Place(rng.nextInt(h - s + 1), rng.nextInt(w - s + 1)), s, c, h, w,
                            patches, (offset + i) * ps);
                }
            }
            case NON_ADAPTIVE -> {
                // LaVAN against the bare classifier, at the same places (same seed, same first draws)
                AttackModel bare = new AttackModel(model.detector()::classifierLogits, model.parent(),
                        model.imageShape(), 1);
                Patch.Result r = LaVan.attack(bare, x, labels, new LaVan.Options(opt.fraction(), opt.steps(), 0.05,
                        opt.seed()));
                model.absorb(bare);
                for (int i = 0; i < n; i++) {
                    crop(r.adversarial(), i, places[i], s, c, h, w, patches, (offset + i) * ps);
                }
            }
            default -> throw new IllegalStateException(start.name());
        }
    }

    /** Copies the s×s square at {@code p} of image {@code img} of {@code images} into {@code out} at {@code off}. */
    static void crop(float[] images, int img, Patch.Place p, int s, int c, int h, int w, float[] out, int off) {
        int d = c * h * w;
        for (int ch = 0; ch < c; ch++) {
            for (int a = 0; a < s; a++) {
                System.arraycopy(images, img * d + (ch * h + p.row() + a) * w + p.col(), out, off + (ch * s + a) * s,
                        s);
            }
        }
    }

    private static float[] tile(float[] a, int times) {
        float[] out = new float[a.length * times];
        for (int t = 0; t < times; t++) {
            System.arraycopy(a, 0, out, t * a.length, a.length);
        }
        return out;
    }

    private static int[] tile(int[] a, int times) {
        int[] out = new int[a.length * times];
        for (int t = 0; t < times; t++) {
            System.arraycopy(a, 0, out, t * a.length, a.length);
        }
        return out;
    }
}
