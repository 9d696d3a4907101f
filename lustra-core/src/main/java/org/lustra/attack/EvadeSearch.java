package org.lustra.attack;

import java.util.Arrays;

/**
 * The state of {@link EvadeLaVan}'s search over its virtual images (start × image): Adam's moments, the per-image λ,
 * the latest classifier logits and soft detection, and the best checked iterate with its rank.
 */
final class EvadeSearch {
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;

    final float[] lambda;
    /** The kept iterate per virtual image, flat (nv·d). */
    final float[] best;
    float[] logits;
    int classes;
    private final float[] detection;
    private final float[] moment1;
    private final float[] moment2;
    private final int[] bestRank;
    private final double[] bestCovered;
    private final float[] bestDetection;
    private final float[] bestObjective;
    private final int nv;
    private final int ps;
    private final int d;
    private final double learningRate;

    EvadeSearch(int nv, int ps, int d, EvadeLaVan.Options opt) {
        this.nv = nv;
        this.ps = ps;
        this.d = d;
        this.learningRate = opt.learningRate();
        lambda = new float[nv];
        Arrays.fill(lambda, (float) opt.lambda());
        best = new float[nv * d];
        detection = new float[nv];
        moment1 = new float[nv * ps];
        moment2 = new float[nv * ps];
        bestRank = new int[nv];
        Arrays.fill(bestRank, -1);
        bestCovered = new double[nv];
        bestDetection = new float[nv];
        bestObjective = new float[nv];
        Arrays.fill(bestObjective, Float.NEGATIVE_INFINITY);
    }

    /** Keeps the logits and soft detection of virtual images from.. of one objective evaluation. */
    void record(int from, EvasionObjective.Value val) {
        int n = val.detection().length;
        int k = val.classes();
        if (logits == null) {
            logits = new float[nv * k];
            classes = k;
        }
        System.arraycopy(val.logits(), 0, logits, from * k, n * k);
        System.arraycopy(val.detection(), 0, detection, from, n);
    }

    /** Without a detector: keeps each virtual image's iterate with the best objective so far (EOT mean). */
    void keepIfBetter(float[] cur, float[] objective) {
        for (int v = 0; v < nv; v++) {
            if (objective[v] > bestObjective[v]) {
                bestObjective[v] = objective[v];
                System.arraycopy(cur, v * d, best, v * d, d);
            }
        }
    }

    /**
     * A K-vote detection check of {@code cur} (whose objective was just evaluated): λ grows where the patch is still
     * detected, and each virtual image keeps {@code cur} when it ranks above its kept iterate — classifier fooled and
     * patch unseen (3) above fooled but seen (2) above unseen but not fooling (1) — or ranks the same with less of the
     * patch covered (then a lower soft detection).
     */
    void check(AttackModel model, float[] cur, int[] ys, float[] vmasks, EvadeLaVan.Options opt) {
        int votes = Math.max(1, model.votes());
        double[] covered = new double[nv];
        int[] hits = EvasionObjective.detectionVotes(model, cur, nv, vmasks, votes, opt.coverage(), covered);
        for (int v = 0; v < nv; v++) {
            boolean detected = 2 * hits[v] >= votes; // a tie counts as detected: λ keeps growing
            boolean fooled = LogitRows.margin(logits, v, classes, ys[v]) < 0;
            int rank = (fooled ? 2 : 0) + (detected ? 0 : 1);
            // same rank: less of the patch covered by the hard masks, then (hard coverage often ties at 0 or 1) a
            // lower soft detection — else the first iterate of a rank would be kept and later evasion thrown away
            boolean better = rank > bestRank[v] || (rank == bestRank[v] && (covered[v] < bestCovered[v]
                    || (covered[v] == bestCovered[v] && detection[v] < bestDetection[v])));
            if (better) {
                bestRank[v] = rank;
                bestCovered[v] = covered[v];
                bestDetection[v] = detection[v];
                System.arraycopy(cur, v * d, best, v * d, d);
            }
            if (detected) {
                lambda[v] = (float) Math.min(lambda[v] * opt.lambdaGrowth(), 1e6);
            }
        }
    }

    /** One Adam ascent step (bias-corrected, step t ≥ 1) on virtual image v's patch, clipped to [0, 1]. */
    void adam(float[] patches, int v, float[] g, int t) {
        double c1 = 1 - Math.pow(BETA1, t);
        double c2 = 1 - Math.pow(BETA2, t);
        for (int j = 0; j < ps; j++) {
            int at = v * ps + j;
            float gj = Float.isFinite(g[j]) ? g[j] : 0f;
            moment1[at] = (float) (BETA1 * moment1[at] + (1 - BETA1) * gj);
            moment2[at] = (float) (BETA2 * moment2[at] + (1 - BETA2) * gj * gj);
            double step = learningRate * (moment1[at] / c1) / (Math.sqrt(moment2[at] / c2) + 1e-8);
            patches[at] = (float) Math.max(0, Math.min(1, patches[at] + step));
        }
    }

    /** Mean soft detection of virtual image v at the latest evaluation. */
    float detection(int v) {
        return detection[v];
    }
}
