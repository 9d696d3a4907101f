package org.lustra.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.lustra.data.FashionMnist;
import org.lustra.data.ImageSet;

class PredictionsErrorSummaryTest {

    @Test
    void givenPurifiedPredictions_whenErrorsAreSummarised_thenTheyAreCountedByTrueClassAndByMostFrequentPair() {
        // labels: shirt (6) ×3, coat (4) ×2, bag (8) ×1
        int[] labels = {6, 6, 6, 4, 4, 8};
        ImageSet set = new ImageSet(new byte[labels.length * 4], labels, 1, 2, 2);
        // two shirts become t-shirts, one coat a pullover; the rest stay right
        int[] predicted = {0, 6, 0, 2, 4, 8};

        String summary = Predictions.errorSummary(predicted, set, FashionMnist.CLASSES);

        assertEquals("3 errors by true class: coat 1 shirt 2; most frequent shirt->t-shirt 2 coat->pullover 1",
                summary);
    }

    @Test
    void givenNoErrors_whenSummarised_thenItSaysZero() {
        int[] labels = {1, 2};
        ImageSet set = new ImageSet(new byte[8], labels, 1, 2, 2);

        assertEquals("0 errors", Predictions.errorSummary(labels, set, FashionMnist.CLASSES));
    }
}
