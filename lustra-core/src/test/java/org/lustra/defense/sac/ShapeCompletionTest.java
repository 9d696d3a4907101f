package org.lustra.defense.sac;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ShapeCompletionTest {
    static final int H = 16;
    static final int W = 16;

    static boolean[] square(int top, int left, int side) {
        boolean[] m = new boolean[H * W];
        for (int y = top; y < top + side; y++) {
            for (int x = left; x < left + side; x++) {
                m[y * W + x] = true;
            }
        }
        return m;
    }

    static int count(boolean[] m) {
        int n = 0;
        for (boolean b : m) {
            n += b ? 1 : 0;
        }
        return n;
    }

    @Test
    void givenASquareWithHolesAndABittenCorner_whenCompleted_thenExactlyTheWholeSquareComesBack() {
        boolean[] truth = square(4, 5, 6);
        boolean[] coarse = truth.clone();
        coarse[6 * W + 7] = false; // two holes inside
        coarse[7 * W + 8] = false;
        coarse[4 * W + 5] = false; // a bitten corner
        ShapeCompletion.Result r = ShapeCompletion.complete(coarse, H, W, List.of(6), 0.1);
        assertArrayEquals(truth, r.mask(), "d_H = 3 ≤ 0.1·36 for the true square only");
        assertEquals(1, r.matches());
    }

    @Test
    void givenTheTruePatchWithAdversariallyPlacedErrors_whenCompletedWithinGamma_thenThePatchIsCovered() {
        boolean[] truth = square(3, 3, 6);
        boolean[] coarse = truth.clone();
        for (int y = 3; y < 6; y++) {
            coarse[y * W + 8] = false; // three pixels of the right edge missed ...
            coarse[y * W + 9] = true; // ... and three outside it claimed: d_H = 6
        }
        boolean[] done = ShapeCompletion.complete(coarse, H, W, List.of(4, 5, 6, 7), 0.2).mask();
        for (int p = 0; p < H * W; p++) {
            assertTrue(!truth[p] || done[p], "true patch pixel " + p + " is covered (SAC's guarantee)");
        }
        assertTrue(count(done) < 2 * count(truth), "the union stays near the patch: " + count(done));
    }

    @Test
    void givenAnEmptyMask_whenCompleted_thenItStaysEmpty() {
        ShapeCompletion.Result r = ShapeCompletion.complete(new boolean[H * W], H, W, List.of(2, 3, 4, 5, 6), 0.9);
        assertEquals(0, count(r.mask()));
    }

    @Test
    void givenAThinLineFarFromEverySquare_whenCompleted_thenTheCoarseMaskIsKeptAsIs() {
        boolean[] line = new boolean[H * W];
        for (int x = 1; x < 15; x++) {
            line[8 * W + x] = true;
        }
        ShapeCompletion.Result r = ShapeCompletion.complete(line, H, W, List.of(4, 6), 0.3);
        assertEquals(0, r.matches());
        assertArrayEquals(line, r.mask());
    }

    @Test
    void givenASideLargerThanTheImage_whenCompleted_thenTheErrorNamesTheAllowedRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ShapeCompletion.complete(new boolean[H * W], H, W, List.of(17), 0.1));
        assertTrue(e.getMessage().contains("1..16"), e.getMessage());
    }
}
