package org.lustra.defense.classic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Binary morphology with a 3×3 square on hand-drawn 12×12 masks. */
class MorphologyTest {
    private static final int N = 12;

    private static boolean[] block(boolean[] m, int y0, int x0, int size) {
        for (int y = y0; y < y0 + size; y++) {
            for (int x = x0; x < x0 + size; x++) {
                m[y * N + x] = true;
            }
        }
        return m;
    }

    private static int count(boolean[] m) {
        int c = 0;
        for (boolean b : m) {
            c += b ? 1 : 0;
        }
        return c;
    }

    @Test
    void givenIsolatedPixelsAndASquare_whenOpened_thenOnlyTheSquareRemainsExactly() {
        boolean[] square = block(new boolean[N * N], 5, 5, 4);
        boolean[] noisy = square.clone();
        noisy[0] = true; // corner speck
        noisy[2 * N + 9] = true; // isolated pixel
        noisy[10 * N + 1] = true; // a two-pixel speck
        noisy[10 * N + 2] = true;
        assertArrayEquals(square, Morphology.open(noisy, N, N, 1));
    }

    @Test
    void givenASquareInTheCorner_whenOpened_thenTheBorderDoesNotEatIt() {
        boolean[] corner = block(new boolean[N * N], 0, 0, 3);
        assertArrayEquals(corner, Morphology.open(corner, N, N, 1));
    }

    @Test
    void givenASquareWithAOnePixelHole_whenClosed_thenTheHoleIsFilled() {
        boolean[] holed = block(new boolean[N * N], 3, 3, 5);
        holed[5 * N + 5] = false;
        boolean[] closed = Morphology.close(holed, N, N, 1);
        assertTrue(closed[5 * N + 5]);
        assertEquals(25, count(closed));
    }

    @Test
    void givenASquare_whenDilatedOnceAndErodedOnce_thenItGrowsAndShrinksByOnePixelPerSide() {
        boolean[] square = block(new boolean[N * N], 4, 4, 4);
        assertArrayEquals(block(new boolean[N * N], 3, 3, 6), Morphology.dilate(square, N, N, 1));
        assertArrayEquals(block(new boolean[N * N], 5, 5, 2), Morphology.erode(square, N, N, 1));
        assertFalse(Morphology.erode(square, N, N, 2)[5 * N + 5], "a 4×4 square vanishes after two erosions");
        assertArrayEquals(square, Morphology.dilate(square, N, N, 0), "zero times is the identity");
    }
}
