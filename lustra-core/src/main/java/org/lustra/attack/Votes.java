package org.lustra.attack;

import java.util.HashMap;
import java.util.Map;

/**
 * The one rule that turns K predictions of a randomised model for one image into a single answer, shared by the
 * attacks (a success is confirmed when this answer is wrong) and by the harness's "majority of K" score, so an attack
 * never counts a success that the score would call robust, or the other way round.
 */
public final class Votes {
    private Votes() {}

    /**
     * The most frequent of {@code predictions}; a tie between the true {@code label} and another class goes to the
     * other class (conservative: the defence must win outright). -1 stands for "no class" (non-finite logits) and is a
     * wrong answer like any other. E.g. K = 4 with two right and two of one wrong class
     * is fooled; K = 5 with two right and three scattered wrong classes is robust.
     */
    public static int majority(int[] predictions, int label) {
        Map<Integer, Integer> count = new HashMap<>();
        for (int p : predictions) {
            count.merge(p, 1, Integer::sum);
        }
        int best = -1;
        int bestCount = -1;
        for (Map.Entry<Integer, Integer> e : count.entrySet()) {
            int k = e.getKey();
            int cnt = e.getValue();
            if (cnt > bestCount || (cnt == bestCount && best == label)) {
                best = k;
                bestCount = cnt;
            }
        }
        return best;
    }
}
