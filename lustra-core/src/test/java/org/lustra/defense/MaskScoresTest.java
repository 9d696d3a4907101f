package org.lustra.defense;

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

    @Test
    void givenEmptyMasks_whenOneImageIsCompared_thenTheOverlapFollowsTheEmptyMaskConventions() {
        MaskScores.Overlap bothEmpty = MaskScores.overlap(new float[4], 0, new float[4], 0, 4);
        MaskScores.Overlap missed = MaskScores.overlap(new float[4], 0, new float[] {0, 1, 0, 0}, 0, 4);
        MaskScores.Overlap falseAlarm = MaskScores.overlap(new float[] {1, 0, 0, 0}, 0, null, 0, 4);
        assertEquals(1.0, bothEmpty.iou());
        assertEquals(1.0, bothEmpty.precision());
        assertEquals(1.0, bothEmpty.recall());
        assertEquals(0.0, missed.precision()); // nothing predicted, a patch there
        assertEquals(0.0, missed.recall());
        assertEquals(0.0, falseAlarm.iou());
        assertEquals(1.0, falseAlarm.recall());
        assertEquals(0.25, falseAlarm.maskedShare());
    }

    @Test
    void givenImagesMaskedUnevenly_whenAccumulated_thenThePooledShareCountsPixelsOverAllImages() {
        MaskScores s = new MaskScores();
        s.add(new float[] {1, 1, 1, 0}, 0, null, 0, 4);
        s.add(new float[] {0, 0}, 0, null, 0, 2);
        assertEquals(3.0 / 6, s.pooledMaskedShare(), 1e-12); // pixels: 3 of 6
        assertEquals((0.75 + 0) / 2, s.maskedShare(), 1e-12); // image means
    }
}
