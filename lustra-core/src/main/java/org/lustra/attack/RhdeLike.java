package org.lustra.attack;

import java.util.SplittableRandom;

/**
 * An RHDE-like black-box natural-sticker attack: the sticker is a real crop (centred, 5 % of the image by default)
 * of another image of a different class, and only its position — optionally also its scale (0.75–1.25 of the side)
 * — is searched, by differential evolution (Storn and Price, 1997) in the DE/best/1/bin variant: mutant =
 * best + F·(x_r1 − x_r2) with F drawn from [0.5, 1] each generation (dithering), binomial crossover with rate 0.7,
 * greedy selection on the margin z_y − max_{j≠y} z_j. Uses only logits; every population of every image is scored
 * in one batched forward per generation; an image stops once fooled.
 */
public final class RhdeLike {

    /** Settings; default 5 % sticker, population 20, 50 generations (≤ 1000 queries per image), no scale. */
    public record Options(double fraction, int population, int generations, double crossover, boolean searchScale,
            long seed) {
        public Options {
            if (!(fraction > 0 && fraction < 1) || population < 4 || generations < 1
                    || !(crossover >= 0 && crossover <= 1)) {
                throw new IllegalArgumentException("Invalid RHDE-like: fraction " + fraction + ", population "
                        + population + ", generations " + generations + ", crossover " + crossover
                        + " (need 0 < fraction < 1, population ≥ 4, generations ≥ 1, 0 ≤ crossover ≤ 1)");
            }
        }

        public static Options defaults(long seed) {
            return new Options(0.05, 20, 50, 0.7, false, seed);
        }
    }

    private RhdeLike() {}

    /**
     * @param sources images to crop stickers from (flat, same shape as {@code x}), with their labels; a sticker for
     *     image i comes from a source of another class
     */
    public static Patch.Result attack(AttackModel model, float[] x, int[] labels, float[] sources, int[] sourceLabels,
            Options opt) {
        int n = labels.length;
        int c = (int) model.imageShape().get(0);
        int h = (int) model.imageShape().get(1);
        int w = (int) model.imageShape().get(2);
        int d = c * h * w;
        int s = Patch.side(opt.fraction(), h, w);
        if (sourceLabels.length == 0 || sources.length != sourceLabels.length * d) {
            throw new IllegalArgumentException("RHDE-like needs source images for its stickers, got "
                    + sourceLabels.length);
        }
        long before = model.forwardImages();
        SplittableRandom rng = new SplittableRandom(opt.seed());
        int genes = opt.searchScale() ? 3 : 2;
        int pop = opt.population();
        float[][] stickers = stickers(labels, sources, sourceLabels, s, c, h, w, rng);
        double[][][] members = randomMembers(n, pop, genes, rng);
        double[][] fitness = new double[n][pop];
        int[] all = java.util.stream.IntStream.range(0, n).toArray();
        score(model, x, labels, stickers, members, all, fitness, s, c, h, w, opt.searchScale());
        boolean[] fooled = new boolean[n];
        int[] best = new int[n];
        for (int i = 0; i < n; i++) {
            best[i] = argMin(fitness[i]);
            fooled[i] = fitness[i][best[i]] < 0;
        }
        // a randomised target's fitness is one noisy forward: no image stops at a first success, every generation
        // runs, and K fresh evaluations of the final best member decide
        boolean randomized = model.randomized();
        boolean[] none = new boolean[n];
        for (int gen = 0; gen < opt.generations(); gen++) {
            int[] todo = Apgd.remaining(randomized ? none : fooled);
            if (todo.length == 0) {
                break;
            }
            double f = 0.5 + 0.5 * rng.nextDouble();
            double[][][] trials = new double[n][][];
            for (int i : todo) {
                trials[i] = trials(members[i], best[i], f, opt.crossover(), rng);
            }
            double[][] trialFitness = new double[n][pop];
            score(model, x, labels, stickers, trials, todo, trialFitness, s, c, h, w, opt.searchScale());
            for (int i : todo) {
                survive(members[i], fitness[i], trials[i], trialFitness[i]);
                best[i] = argMin(fitness[i]);
                fooled[i] = fitness[i][best[i]] < 0;
            }
        }
        float[] adv = x.clone();
        float[] masks = new float[n * h * w];
        for (int i = 0; i < n; i++) {
            Placement pl = decode(members[i][best[i]], s, h, w, opt.searchScale());
            pasteScaled(adv, i, stickers[i], s, pl, c, h, w);
            Patch.markMask(masks, i, pl.side, new Patch.Place(pl.row, pl.col), h, w);
        }
        if (randomized) {
            fooled = model.confirmFooled(adv, n, labels);
        }
        return new Patch.Result(adv, masks, fooled, model.forwardImages() - before);
    }

    /** n populations of {@code pop} members with {@code genes} uniform genes each, drawn image by image. */
    private static double[][][] randomMembers(int n, int pop, int genes, SplittableRandom rng) {
        double[][][] members = new double[n][pop][genes];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < pop; p++) {
                for (int g = 0; g < genes; g++) {
                    members[i][p][g] = rng.nextDouble();
                }
            }
        }
        return members;
    }

    /** One image's selection: each trial replaces its parent when it is at least as fit (lower is fitter). */
    private static void survive(double[][] members, double[] fitness, double[][] trials, double[] trialFitness) {
        for (int p = 0; p < members.length; p++) {
            if (trialFitness[p] <= fitness[p]) {
                fitness[p] = trialFitness[p];
                members[p] = trials[p];
            }
        }
    }

    /** Per image a centre crop of side s from a random source image of another class (1,000 draws at most). */
    private static float[][] stickers(int[] labels, float[] sources, int[] sourceLabels, int s, int c, int h, int w,
            SplittableRandom rng) {
        float[][] stickers = new float[labels.length][];
        for (int i = 0; i < labels.length; i++) {
            int src;
            int guard = 0;
            do {
                src = rng.nextInt(sourceLabels.length);
            } while (sourceLabels[src] == labels[i] && ++guard < 1000);
            stickers[i] = centreCrop(sources, src, s, c, h, w);
        }
        return stickers;
    }

    /**
     * One image's trial population (DE/best/1/bin): member p's genes cross over, with probability {@code crossover}
     * and always at one forced gene, to best + f·(r1 − r2) for two distinct others r1, r2; clipped to [0, 1].
     */
    private static double[][] trials(double[][] members, int best, double f, double crossover, SplittableRandom rng) {
        int pop = members.length;
        int genes = members[0].length;
        double[][] trials = new double[pop][genes];
        for (int p = 0; p < pop; p++) {
            int r1;
            int r2;
            do {
                r1 = rng.nextInt(pop);
            } while (r1 == p);
            do {
                r2 = rng.nextInt(pop);
            } while (r2 == p || r2 == r1);
            int forced = rng.nextInt(genes);
            for (int g = 0; g < genes; g++) {
                double v = members[p][g];
                if (g == forced || rng.nextDouble() < crossover) {
                    v = members[best][g] + f * (members[r1][g] - members[r2][g]);
                }
                trials[p][g] = Math.max(0, Math.min(1, v));
            }
        }
        return trials;
    }

    private record Placement(int row, int col, int side) {}

    private static Placement decode(double[] g, int s, int h, int w, boolean scale) {
        int side = scale ? Math.max(1, (int) Math.round(s * (0.75 + 0.5 * g[2]))) : s;
        side = Math.min(side, Math.min(h, w));
        return new Placement((int) Math.round(g[0] * (h - side)), (int) Math.round(g[1] * (w - side)), side);
    }

    private static void score(AttackModel model, float[] x, int[] labels, float[][] stickers, double[][][] genomes,
            int[] which, double[][] out, int s, int c, int h, int w, boolean scale) {
        int d = c * h * w;
        int pop = genomes[which[0]].length;
        int total = which.length * pop;
        int chunk = 2048;
        for (int from = 0; from < total; from += chunk) {
            int to = Math.min(total, from + chunk);
            float[] imgs = new float[(to - from) * d];
            for (int q = from; q < to; q++) {
                int i = which[q / pop];
                System.arraycopy(x, i * d, imgs, (q - from) * d, d);
                pasteScaled(imgs, q - from, stickers[i], s, decode(genomes[i][q % pop], s, h, w, scale), c, h, w);
            }
            float[] logits = model.logits(imgs, to - from);
            int k = logits.length / (to - from);
            for (int q = from; q < to; q++) {
                int i = which[q / pop];
                out[i][q % pop] = LogitRows.margin(logits, q - from, k, labels[i]);
            }
        }
    }

    /** Nearest-neighbour resize of the s×s sticker to the placement's side, pasted at its corner. */
    private static void pasteScaled(float[] out, int i, float[] sticker, int s, Placement p, int c, int h, int w) {
        int d = c * h * w;
        for (int ch = 0; ch < c; ch++) {
            for (int a = 0; a < p.side; a++) {
                for (int b = 0; b < p.side; b++) {
                    int sa = Math.min(s - 1, a * s / p.side);
                    int sb = Math.min(s - 1, b * s / p.side);
                    out[i * d + (ch * h + p.row + a) * w + p.col + b] = sticker[(ch * s + sa) * s + sb];
                }
            }
        }
    }

    private static float[] centreCrop(float[] images, int i, int s, int c, int h, int w) {
        float[] crop = new float[c * s * s];
        int r0 = (h - s) / 2;
        int c0 = (w - s) / 2;
        int d = c * h * w;
        for (int ch = 0; ch < c; ch++) {
            for (int a = 0; a < s; a++) {
                System.arraycopy(images, i * d + (ch * h + r0 + a) * w + c0, crop, (ch * s + a) * s, s);
            }
        }
        return crop;
    }

    private static int argMin(double[] v) {
        int b = 0;
        for (int j = 1; j < v.length; j++) {
            if (v[j] < v[b]) {
                b = j;
            }
        }
        return b;
    }
}
