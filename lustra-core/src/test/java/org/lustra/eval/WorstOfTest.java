package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Identity;

/** The per-image worst over routes, fed whole chunks and sub-chunks (rows at chunk positions). */
class WorstOfTest {
    // 3 images of 1×1×2 pixels (d = 2, plane = 2), 3 votes; labels 0, 1, 2
    private static final int[] LABELS = {0, 1, 2};
    private static final Route FIRST = Route.of(Identity.INSTANCE, false, GradientMode.EXACT, 1, 3);

    private static Judging.Judged judged(int[][] votesPerImage, float base) {
        int n = votesPerImage.length;
        int[][] votes = new int[3][n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 3; k++) {
                votes[k][i] = votesPerImage[i][k];
            }
        }
        float[] purified = new float[n * 2];
        float[] replaced = new float[n * 2];
        for (int j = 0; j < n * 2; j++) {
            purified[j] = base + j;
            replaced[j] = base + 100 + j;
        }
        return new Judging.Judged(votes, purified, replaced);
    }

    private static float[] images(int n, float base) {
        float[] x = new float[n * 2];
        for (int j = 0; j < x.length; j++) {
            x[j] = base + j;
        }
        return x;
    }

    @Test
    void givenAFirstRoute_whenOffered_thenImagesFooledOnEveryVoteAreClosedAndTheRestOpen() {
        WorstOf w = new WorstOf(3, 2, 2, 3, true);
        // image 0: all three votes wrong; image 1: majority wrong (2 of 3); image 2: right
        w.offer(FIRST, null, LABELS, images(3, 10), images(3, 20), new boolean[3],
                judged(new int[][] {{5, 5, 5}, {0, 0, 1}, {2, 2, 2}}, 30));

        assertArrayEquals(new int[] {1, 2}, w.open());
        assertArrayEquals(new float[] {10, 11, 12, 13, 14, 15}, w.adversarial);
        assertArrayEquals(new float[] {20, 21, 22, 23, 24, 25}, w.masks);
        assertArrayEquals(new float[] {30, 31, 32, 33, 34, 35}, w.purified);
    }

    @Test
    void givenASubChunkOfTheOpenImages_whenOffered_thenEachRowLandsAtItsChunkPositionAndOnlyWorseOutcomesWin() {
        WorstOf w = new WorstOf(3, 2, 2, 3, true);
        w.offer(FIRST, null, LABELS, images(3, 10), images(3, 20), new boolean[3],
                judged(new int[][] {{5, 5, 5}, {0, 0, 1}, {2, 2, 2}}, 30));
        Route second = FIRST.withRestart(1);

        // rows 1 and 2: image 1 only one vote wrong now (better for it, so the first route stays its worst), image 2
        // fooled on every vote (worse: taken)
        w.offer(second, new int[] {1, 2}, LABELS, images(2, 50), images(2, 60), new boolean[] {false, true},
                judged(new int[][] {{1, 1, 0}, {7, 7, 7}}, 70));

        assertArrayEquals(new float[] {10, 11, 12, 13, 52, 53}, w.adversarial);
        assertArrayEquals(new float[] {20, 21, 22, 23, 62, 63}, w.masks);
        assertArrayEquals(new float[] {30, 31, 32, 33, 72, 73}, w.purified);
        assertArrayEquals(new float[] {130, 131, 132, 133, 172, 173}, w.replaced);
        assertArrayEquals(new boolean[] {false, false, true}, w.nonFinite);
        assertEquals(7, w.votes[2][2]);
        assertEquals(FIRST.tag(), w.routes[1]);
        assertEquals(second.tag(), w.routes[2]);
        assertArrayEquals(new int[] {1}, w.open());
    }

    @Test
    void givenACopy_whenARouteIsPutIntoIt_thenItsRowsTakeTheRouteWhateverItDidAndTheOriginalIsUntouched() {
        WorstOf w = new WorstOf(3, 2, 2, 3, true);
        w.offer(FIRST, null, LABELS, images(3, 10), null, new boolean[3],
                judged(new int[][] {{5, 5, 5}, {0, 0, 1}, {2, 2, 2}}, 30));

        WorstOf copy = w.copy();
        copy.put(FIRST.withRestart(1), new int[] {1}, LABELS, images(1, 90), null, new boolean[1],
                judged(new int[][] {{1, 1, 1}}, 80));

        assertArrayEquals(new float[] {10, 11, 90, 91, 14, 15}, copy.adversarial, "put takes even a better outcome");
        assertEquals(1, copy.votes[0][1]);
        assertArrayEquals(new float[] {10, 11, 12, 13, 14, 15}, w.adversarial, "the original keeps its worst");
        assertEquals(0, w.votes[0][1]);
        assertNull(w.masks);
    }
}
