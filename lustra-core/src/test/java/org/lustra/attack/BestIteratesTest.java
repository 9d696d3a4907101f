package org.lustra.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The per-sample "best objective so far" bookkeeping of PGD, APGD, LaVAN and GDPA-like. */
class BestIteratesTest {
    /** Three samples of two values each: sample i starts at (i, i). */
    private static BestIterates three() {
        return new BestIterates(new float[] {0, 0, 1, 1, 2, 2}, 3);
    }

    @Test
    void givenFreshBookkeeping_whenAFiniteLossIsOffered_thenItBeatsTheStartingMinusInfinity() {
        BestIterates best = three();

        boolean kept = best.offer(1, -5f, new float[] {7, 8}, 0);

        assertTrue(kept);
        assertEquals(-5f, best.loss(1));
        assertArrayEquals(new float[] {0, 0, 7, 8, 2, 2}, best.iterates());
    }

    @Test
    void givenAKeptLoss_whenAnEqualLossIsOffered_thenTheEarlierIterateStays() {
        BestIterates best = three();
        best.offer(0, 1f, new float[] {5, 5}, 0);

        boolean kept = best.offer(0, 1f, new float[] {9, 9}, 0);

        assertFalse(kept, "a tie keeps the earlier iterate");
        assertArrayEquals(new float[] {5, 5, 1, 1, 2, 2}, best.iterates());
    }

    @Test
    void givenAKeptLoss_whenALowerLossIsOffered_thenItIsIgnored_andAHigherOneReplacesIt() {
        BestIterates best = three();
        best.offer(2, 1f, new float[] {5, 5}, 0);

        assertFalse(best.offer(2, 0.5f, new float[] {6, 6}, 0));
        assertTrue(best.offer(2, 1.5f, new float[] {7, 7}, 0));

        assertEquals(1.5f, best.loss(2));
        assertArrayEquals(new float[] {0, 0, 1, 1, 7, 7}, best.iterates());
    }

    @Test
    void givenOnlyNonFiniteLosses_whenOffered_thenTheStartingIterateStays() {
        BestIterates best = three();

        // AttackModel turns every non-finite loss into -Infinity: never better than anything
        assertFalse(best.offer(0, Float.NEGATIVE_INFINITY, new float[] {9, 9}, 0));

        assertArrayEquals(new float[] {0, 0, 1, 1, 2, 2}, best.iterates());
    }

    @Test
    void givenANaNLoss_whenOffered_thenItIsAnErrorAndNothingChanges() {
        BestIterates best = three();
        best.offer(0, 1f, new float[] {5, 5}, 0);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> best.offer(0, Float.NaN, new float[] {9, 9}, 0));

        assertTrue(e.getMessage().contains("NaN loss for sample 0"), e.getMessage());
        assertEquals(1f, best.loss(0));
        assertArrayEquals(new float[] {5, 5, 1, 1, 2, 2}, best.iterates());
        assertThrows(IllegalArgumentException.class, () -> new BestIterates(new float[] {0, 0}, new float[] {Float.NaN}));
    }

    @Test
    void givenABatchOfASubsetOfSamples_whenRowTIsOfferedForSampleI_thenOnlySampleIChanges() {
        BestIterates best = three();
        float[] batch = {10, 11, 20, 21}; // row 0 is an iterate of sample 2, row 1 of sample 0

        best.offer(2, 3f, batch, 0);
        best.offer(0, 4f, batch, 1);

        assertArrayEquals(new float[] {20, 21, 1, 1, 10, 11}, best.iterates());
        assertArrayEquals(new float[] {4f, Float.NEGATIVE_INFINITY, 3f}, best.losses());
    }

    @Test
    void givenInitialLosses_whenAWholeBatchIsOffered_thenEachSampleKeepsTheBetterOfTheTwo() {
        BestIterates best = new BestIterates(new float[] {0, 0, 1, 1}, new float[] {2f, 2f});

        boolean[] kept = best.offerAll(new float[] {1f, 3f}, new float[] {8, 8, 9, 9});

        assertArrayEquals(new boolean[] {false, true}, kept, "the initial losses count");
        assertArrayEquals(new float[] {0, 0, 9, 9}, best.iterates());
    }

    @Test
    void givenTheStartingIterates_whenTheCallerChangesItsArray_thenTheKeptIteratesDoNot() {
        float[] start = {0, 0, 1, 1};
        BestIterates best = new BestIterates(start, 2);

        start[0] = 42;

        assertEquals(0f, best.iterates()[0]);
    }

    @Test
    void givenValuesThatDoNotSplitIntoTheSamples_whenConstructed_thenItIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new BestIterates(new float[5], 2));
        assertThrows(IllegalArgumentException.class, () -> three().offerAll(new float[2], new float[6]));
    }
}
