package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.attack.GradientCounts;

/**
 * The three scores of a cell (single draw, majority of K, any-of-K) on votes written by hand, checked against counts
 * made by hand from {@link Scoring}'s documented rules: the single draw is the first vote, the majority is the most
 * frequent answer with a tie against the true class counted as fooled, any-of-K is robust only when all K are right.
 */
class ScoresOnCraftedVotesTest {
    private static final int LABEL = 0;

    /**
     * Ten votes per image (label 0), one row per image, with the three outcomes worked out by hand. -1 is a vote whose
     * logits were not finite (no class): a wrong answer.
     */
    private static final int[][] TEN_VOTES = {
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // i0 all right:                      single R, majority R, any R
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 7}, // i1 one wrong, the last:            single R, majority R, any F
        {3, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // i2 one wrong, the first:           single F, majority R, any F
        {0, 0, 0, 0, 0, 5, 5, 5, 5, 5}, // i3 tie 5–5 with one wrong class:   single R, majority F (tie), any F
        {1, 0, 2, 0, 3, 0, 1, 2, 3, 0}, // i4 label 4× against 2×, 2×, 2×:   single F, majority R, any F
        {4, 4, 4, 4, 4, 4, 0, 0, 0, 0}, // i5 six of one wrong class:        single F, majority F, any F
        {-1, 0, -1, 0, -1, 0, -1, 0, -1, -1}, // i6 six non-finite votes:    single F, majority F, any F
        {1, 1, 1, 0, 0, 0, 2, 2, 2, 3}, // i7 three-way tie 3–3–3 with label: single F, majority F (tie), any F
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // i8 all right:                      single R, majority R, any R
    };
    private static final boolean[] SINGLE = {true, true, false, true, false, false, false, false, true};
    private static final boolean[] MAJORITY = {true, true, true, false, true, false, false, false, true};
    private static final boolean[] ANY = {true, false, false, false, false, false, false, false, true};

    /** Votes as {@link Scoring.Chunk} holds them: [vote][image], from one row of votes per image. */
    private static int[][] byVote(int[][] perImage) {
        int k = perImage[0].length;
        int[][] out = new int[k][perImage.length];
        for (int i = 0; i < perImage.length; i++) {
            for (int v = 0; v < k; v++) {
                out[v][i] = perImage[i][v];
            }
        }
        return out;
    }

    /** A chunk of n 1×2×2 images (adversarial = clean + 0.1) with the given votes; no masks, no fidelity. */
    private static Scoring.Chunk chunk(long seed, int[][] cleanPerImage, int[][] advPerImage) {
        int n = advPerImage.length;
        float[] clean = new float[n * 4];
        float[] adv = new float[n * 4];
        for (int j = 0; j < clean.length; j++) {
            clean[j] = 0.25f + 0.5f * (j % 2);
            adv[j] = clean[j] + 0.1f;
        }
        int[] labels = new int[n];
        Arrays.fill(labels, LABEL);
        return new Scoring.Chunk(seed, "cell", 0, 0, labels, clean, adv, null, new boolean[n], byVote(cleanPerImage),
                byVote(advPerImage), 1, 2, 2, 1, 1, GradientCounts.NONE, null, null, null, null);
    }

    private static int[][] allRight(int n, int k) {
        return new int[n][k]; // label 0 everywhere
    }

    private static final CellInfo INFO = new CellInfo("noise", "pgd-linf-0.1000-s3", "adaptive", "EXACT", "threat",
            "linf eps=0.1");

    @Test
    void givenTenHandWrittenVotesPerImage_whenScored_thenEachRecordHasTheHandCountedThreeOutcomes() {
        // when
        List<SampleRecord> recs = Scoring.records(chunk(1, allRight(9, 10), TEN_VOTES));

        // then
        for (int i = 0; i < TEN_VOTES.length; i++) {
            SampleRecord r = recs.get(i);
            String row = "image " + i + " votes " + Arrays.toString(TEN_VOTES[i]);
            assertEquals(SINGLE[i], r.singleRobust(), row);
            assertEquals(MAJORITY[i], r.robust(), row);
            assertEquals(!ANY[i], r.anyCopyFooled(), row);
            assertEquals(10, r.votes(), row);
            assertEquals(MAJORITY[i], r.adversarialPrediction() == LABEL, row);
        }
    }

    @Test
    void givenTenHandWrittenVotesPerImage_whenTheCellIsScored_thenItsThreeAccuraciesAreTheHandCountedOnes() {
        // given
        List<SampleRecord> recs = Scoring.records(chunk(1, allRight(9, 10), TEN_VOTES));

        // when
        Report.CellSummary s = Report.scoreCell("cell", INFO, recs);

        // then single: i0 i1 i3 i8; majority: i0 i1 i2 i4 i8; any-of-K: i0 i8
        assertEquals(4.0 / 9, s.singleRobust(), 1e-12);
        assertEquals(5.0 / 9, s.robustMean(), 1e-12);
        assertEquals(2.0 / 9, s.anyCopyRobust(), 1e-12);
        assertEquals(0.0, s.robustStd(), 0);
        assertEquals(9, s.images());
        assertEquals(1.0, s.cleanAccuracy(), 0);
    }

    @Test
    void givenATieBetweenTheLabelAndAWrongClass_whenScored_thenTheImageCountsAsFooled() {
        // given K = 2 (one right, one wrong), K = 4 (two and two) and K = 10 (five and five), and for contrast K = 5
        // with the label the most frequent answer (two right against three different wrong classes)
        int[][] k2 = {{0, 6}, {6, 0}};
        int[][] k4 = {{0, 0, 6, 6}, {6, 0, 6, 0}};
        int[][] k10 = {{5, 0, 5, 0, 5, 0, 5, 0, 5, 0}};
        int[][] k5 = {{0, 1, 0, 2, 3}};

        // when / then: the defence has to win outright
        for (int[][] votes : List.of(k2, k4, k10)) {
            for (SampleRecord r : Scoring.records(chunk(1, allRight(votes.length, votes[0].length), votes))) {
                assertEquals(false, r.robust(), Arrays.deepToString(votes));
                assertNotEquals(LABEL, r.adversarialPrediction(), Arrays.deepToString(votes));
            }
        }
        assertEquals(true, Scoring.records(chunk(1, allRight(1, 5), k5)).get(0).robust());
    }

    @Test
    void givenCleanVotesWithATie_whenScored_thenCleanAccuracyUsesTheSameMajorityRule() {
        // given image 1's clean votes tie 5–5 against the label, image 0's are all right
        int[][] clean = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 2, 0, 2, 0, 2, 0, 2, 0, 2}};

        // when
        List<SampleRecord> recs = Scoring.records(chunk(1, clean, allRight(2, 10)));

        // then
        assertEquals(true, recs.get(0).cleanCorrect());
        assertEquals(false, recs.get(1).cleanCorrect());
        assertEquals(0.5, Report.scoreCell("cell", INFO, recs).cleanAccuracy(), 0);
    }

    @Test
    void givenTwoRunSeeds_whenTheCellIsScored_thenRobustIsTheMeanOverSeedsAndItsStdTheSampleStd() {
        // given seed 1 with the nine images above (majority 5/9) and seed 2 where the same nine are all right (9/9)
        List<SampleRecord> recs = new ArrayList<>(Scoring.records(chunk(1, allRight(9, 10), TEN_VOTES)));
        recs.addAll(Scoring.records(chunk(2, allRight(9, 10), allRight(9, 10))));

        // when
        Report.CellSummary s = Report.scoreCell("cell", INFO, recs);

        // then mean (5/9 + 1) / 2 = 7/9; std of two values a, b is |a − b| / √2; any-of-K pools (2 + 9) / 18
        assertEquals(7.0 / 9, s.robustMean(), 1e-12);
        assertEquals((4.0 / 9) / Math.sqrt(2), s.robustStd(), 1e-12);
        assertEquals(11.0 / 18, s.anyCopyRobust(), 1e-12);
        assertEquals(13.0 / 18, s.singleRobust(), 1e-12);
        assertEquals(9, s.images());
        assertEquals(2, s.runs());
    }

    @Test
    void givenOneVotePerImage_whenScored_thenTheThreeScoresCoincideAndAnyOfKIsNotReported() {
        // given a deterministic defence: K = 1, images 0 and 2 right, image 1 fooled
        int[][] one = {{0}, {8}, {0}};

        // when
        List<SampleRecord> recs = Scoring.records(chunk(1, allRight(3, 1), one));
        Report.CellSummary s = Report.scoreCell("cell", INFO, recs);

        // then
        for (SampleRecord r : recs) {
            assertEquals(r.robust(), r.singleRobust(), r.toString());
            assertNull(r.anyCopyFooled(), r.toString());
        }
        assertEquals(2.0 / 3, s.robustMean(), 1e-12);
        assertEquals(2.0 / 3, s.singleRobust(), 1e-12);
        assertNull(s.anyCopyRobust());
    }
}
