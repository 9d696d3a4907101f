package org.lustra.eval;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Per image, the outcome of the route that fooled it worst ({@link Scoring#badness}) and its judging: votes,
 * purified image and replaced region of the first vote. Ties keep the earlier route.
 */
final class WorstOf {
    final float[] adversarial;
    float[] masks;
    final boolean[] nonFinite;
    final int[][] votes;
    /** The route chosen per image, for worst-of cells (else null). */
    final String[] routes;
    float[] purified;
    float[] replaced;
    private final int[] worst;
    private final int n;
    private final int d;
    private final int plane;

    WorstOf(int n, int d, int plane, int votes, boolean severalRoutes) {
        this.n = n;
        this.d = d;
        this.plane = plane;
        adversarial = new float[n * d];
        nonFinite = new boolean[n];
        this.votes = new int[votes][n];
        routes = severalRoutes ? new String[n] : null;
        worst = new int[n];
        Arrays.fill(worst, -1);
    }

    private WorstOf(WorstOf o) {
        n = o.n;
        d = o.d;
        plane = o.plane;
        adversarial = o.adversarial.clone();
        masks = o.masks == null ? null : o.masks.clone();
        nonFinite = o.nonFinite.clone();
        votes = new int[o.votes.length][];
        for (int k = 0; k < votes.length; k++) {
            votes[k] = o.votes[k].clone();
        }
        routes = o.routes == null ? null : o.routes.clone();
        purified = o.purified == null ? null : o.purified.clone();
        replaced = o.replaced == null ? null : o.replaced.clone();
        worst = o.worst.clone();
    }

    WorstOf copy() {
        return new WorstOf(this);
    }

    /** The chunk positions of the images not yet fooled on every vote (the only ones a later route can worsen). */
    int[] open() {
        int most = Scoring.worstBadness(votes.length);
        return IntStream.range(0, n).filter(i -> worst[i] < most).toArray();
    }

    /**
     * Offers a route's outcome on the images at chunk positions {@code rows} (null: the whole chunk, in order);
     * an image takes it if it fooled that image worse than every route before.
     */
    void offer(Route route, int[] rows, int[] labels, float[] adv, float[] advMasks, boolean[] bad,
            Judging.Judged j) {
        take(route, rows, labels, adv, advMasks, bad, j, false);
    }

    /** Like {@link #offer}, but every image at {@code rows} takes the outcome. */
    void put(Route route, int[] rows, int[] labels, float[] adv, float[] advMasks, boolean[] bad,
            Judging.Judged j) {
        take(route, rows, labels, adv, advMasks, bad, j, true);
    }

    private void take(Route route, int[] rows, int[] labels, float[] adv, float[] advMasks, boolean[] bad,
            Judging.Judged j, boolean always) {
        int[][] v = j.votes();
        int m = rows == null ? n : rows.length;
        for (int r = 0; r < m; r++) {
            int i = rows == null ? r : rows[r];
            int b = Scoring.badness(v, r, labels[i]);
            if (!always && b <= worst[i]) {
                continue;
            }
            worst[i] = b;
            System.arraycopy(adv, r * d, adversarial, i * d, d);
            nonFinite[i] = bad[r];
            for (int k = 0; k < votes.length; k++) {
                votes[k][i] = v[k][r];
            }
            if (advMasks != null) {
                masks = masks == null ? new float[n * plane] : masks;
                System.arraycopy(advMasks, r * plane, masks, i * plane, plane);
            }
            if (j.purified() != null) {
                purified = purified == null ? new float[n * d] : purified;
                System.arraycopy(j.purified(), r * d, purified, i * d, d);
            }
            if (j.replaced() != null) {
                replaced = replaced == null ? new float[n * plane] : replaced;
                System.arraycopy(j.replaced(), r * plane, replaced, i * plane, plane);
            }
            if (routes != null) {
                routes[i] = route.tag();
            }
        }
    }
}
