package org.lustra.eval;

import java.util.ArrayList;
import java.util.List;
import org.lustra.attack.GradientCounts;
import org.lustra.attack.Norm;
import org.lustra.attack.Votes;

/**
 * Per-sample scoring of one chunk, in one place. Every cell gets three scores from the same K evaluations of the
 * final adversarial input (DiffBreak's protocol): the <b>single</b> draw (the first evaluation), the <b>majority</b>
 * of K (a tie counts as fooled), and <b>any-of-K</b> (robust only if all K are right: the worst case over K
 * re-submissions, as DiffHammer counts). For deterministic defences K = 1 and the three coincide.
 */
final class Scoring {
    private Scoring() {}

    /**
     * Everything a chunk's records are made of; {@code masks} the true patches (N·H·W; null for ℓp attacks),
     * {@code replaced} the region the defence replaced in the first judging evaluation (N·H·W; null unless it masks).
     */
    record Chunk(long seed, String cell, int chunk, int from, int[] labels, float[] clean, float[] adversarial,
            float[] masks, boolean[] nonFinite, int[][] cleanVotes, int[][] advVotes, int c, int h, int w,
            double msPerImage, long forwardPerImage, GradientCounts gradients, String[] routes,
            float[] purifiedClean, float[] purifiedAdversarial, float[] replaced) {}

    /**
     * Replaces, in place, every adversarial image holding a non-finite pixel by its clean image (a failed attack: it
     * produced nothing usable) and says which were replaced, so the record can flag them. A NaN image must never be
     * classified: NaN logits give argMax 0, which looked like a success to harness v1.
     */
    static boolean[] replaceNonFinite(float[] adv, float[] clean, int n) {
        int d = adv.length / n;
        boolean[] bad = new boolean[n];
        for (int i = 0; i < n; i++) {
            for (int j = i * d; j < (i + 1) * d; j++) {
                if (!Float.isFinite(adv[j])) {
                    bad[i] = true;
                    break;
                }
            }
            if (bad[i]) {
                System.arraycopy(clean, i * d, adv, i * d, d);
            }
        }
        return bad;
    }

    /** Purified images of image i against its clean image; null when the chunk carries none (undefended). */
    private static SampleRecord.Fidelity fidelity(Chunk k, int i, int d) {
        if (k.purifiedClean() == null || k.purifiedAdversarial() == null) {
            return null;
        }
        float[] x = k.clean();
        float[] pa = k.purifiedAdversarial();
        float[] pc = k.purifiedClean();
        return new SampleRecord.Fidelity(Metrics.psnr(pa, i * d, x, i * d, d),
                Metrics.ssim(pa, i * d, x, i * d, k.c(), k.h(), k.w()), Metrics.psnr(pc, i * d, x, i * d, d),
                Metrics.ssim(pc, i * d, x, i * d, k.c(), k.h(), k.w()));
    }

    static List<SampleRecord> records(Chunk k) {
        int n = k.labels().length;
        int d = k.c() * k.h() * k.w();
        int votes = k.advVotes().length;
        List<SampleRecord> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int label = k.labels()[i];
            int cleanPred = majority(k.cleanVotes(), i, label);
            int advPred = majority(k.advVotes(), i, label);
            boolean anyFooled = false;
            for (int[] v : k.advVotes()) {
                anyFooled |= v[i] != label;
            }
            Double area = null;
            Boolean patchValid = null;
            Double patchMasked = null;
            if (k.masks() != null) {
                double s = 0;
                double hit = 0;
                for (int j = i * k.h() * k.w(); j < (i + 1) * k.h() * k.w(); j++) {
                    s += k.masks()[j];
                    hit += k.replaced() == null ? 0 : k.masks()[j] * k.replaced()[j];
                }
                area = s;
                patchValid = patchValid(k.clean(), k.adversarial(), k.masks(), i, k.c(), k.h(), k.w());
                patchMasked = k.replaced() == null || s == 0 ? null : hit / s;
            }
            float[] x = k.clean();
            float[] adv = k.adversarial();
            out.add(new SampleRecord(k.seed(), k.cell(), k.chunk(), k.from() + i, label, cleanPred, advPred,
                    cleanPred == label, advPred == label, votes > 1 ? anyFooled : null, votes,
                    Norm.LINF.distance(adv, x, i * d, d), Norm.L2.distance(adv, x, i * d, d),
                    Metrics.psnr(adv, i * d, x, i * d, d), Metrics.ssim(adv, i * d, x, i * d, k.c(), k.h(), k.w()),
                    area, k.msPerImage(), k.forwardPerImage(), k.advVotes()[0][i] == label, k.nonFinite()[i],
                    patchValid, k.gradients().rows(), k.gradients().nonFinite(), k.gradients().zero(),
                    k.routes() == null ? null : k.routes()[i], fidelity(k, i, d), patchMasked));
        }
        return out;
    }

    /** The largest {@link #badness} under {@code votes} votes: the majority, every vote and the first fooled. */
    static int worstBadness(int votes) {
        return 1_000_000 + votes * 10 + 1;
    }

    /**
     * How badly image i was fooled under one set of K votes, for choosing the worst route: majority fooled first, then
     * the number of wrong votes (any-of-K), then the first vote (single draw).
     */
    static int badness(int[][] votes, int i, int label) {
        int wrong = 0;
        for (int[] v : votes) {
            wrong += v[i] != label ? 1 : 0;
        }
        boolean majority = majority(votes, i, label) != label;
        return (majority ? 1_000_000 : 0) + wrong * 10 + (votes[0][i] != label ? 1 : 0);
    }

    /** Pixels outside the patch mask equal the clean image, and every pixel is inside [0, 1]. */
    static boolean patchValid(float[] clean, float[] adv, float[] masks, int i, int c, int h, int w) {
        int plane = h * w;
        for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < plane; p++) {
                int j = (i * c + ch) * plane + p;
                float v = adv[j];
                if (!(v >= 0f && v <= 1f)) {
                    return false;
                }
                if (masks[i * plane + p] == 0f && v != clean[j]) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The majority answer of image i's K votes ({@link Votes#majority}, the rule the attacks confirm with). */
    static int majority(int[][] votes, int i, int label) {
        int[] column = new int[votes.length];
        for (int v = 0; v < votes.length; v++) {
            column[v] = votes[v][i];
        }
        return Votes.majority(column, label);
    }
}
