package org.lustra.eval.masks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MaskScoresTest {
    @Test
    void givenAPredictionOverlappingTheTruthByTwoOfFourPixels_whenScored_thenIouPrecisionRecallAreHandComputed() {
        float[] truth = {1, 1, 1, 0, 0, 0};
        float[] predicted = {0, 1, 1, 1, 0, 0};
        MaskScores s = new MaskScores();
        s.add(predicted, 0, truth, 0, 6);
        assertEquals(2.0 / 4, s.iou(), 1e-12); // |∩| = 2, |∪| = 4
        assertEquals(2.0 / 3, s.precision(), 1e-12);
        assertEquals(2.0 / 3, s.recall(), 1e-12);
        assertEquals(3.0 / 6, s.maskedShare(), 1e-12);
    }

    @Test
    void givenACleanImage_whenScored_thenOnlyTheMaskedShareCountsAndIouStaysUndefined() {
        MaskScores s = new MaskScores();
        s.addAll(new float[] {1, 0, 0, 0, 0, 0, 0, 0}, null, 2, 4);
        assertEquals(1.0 / 8, s.maskedShare(), 1e-12); // image means 1/4 and 0
        assertEquals(Double.NaN, s.iou());
        assertEquals(2, s.images());
    }
}
