package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How a worst-of cell ranks one image's outcomes under K judging votes, and which outcome nothing can beat. */
class BadnessTest {
    private static int badness(int label, int... perVote) {
        int[][] votes = new int[perVote.length][1];
        for (int k = 0; k < perVote.length; k++) {
            votes[k][0] = perVote[k];
        }
        return Scoring.badness(votes, 0, label);
    }

    @Test
    void givenThreeVotes_whenRanked_thenMajorityFooledBeatsMoreWrongVotesAndTheFirstVoteBreaksTies() {
        assertTrue(badness(1, 2, 2, 1) > badness(1, 2, 1, 1), "majority fooled first");
        assertTrue(badness(1, 2, 1, 1) > badness(1, 1, 1, 2), "then the first vote, at equal wrong votes");
        assertTrue(badness(1, 1, 1, 2) > badness(1, 1, 1, 1), "then any wrong vote at all");
    }

    @Test
    void givenEveryVoteWrong_whenRanked_thenItIsTheWorstBadnessAndNoOtherVoteSetReachesIt() {
        assertEquals(Scoring.worstBadness(3), badness(1, 2, 0, -1), "a non-finite vote (-1) counts as wrong");
        assertTrue(badness(1, 2, 2, 1) < Scoring.worstBadness(3));
        assertEquals(Scoring.worstBadness(1), badness(4, 5));
        assertTrue(badness(4, 4) < Scoring.worstBadness(1));
    }
}
