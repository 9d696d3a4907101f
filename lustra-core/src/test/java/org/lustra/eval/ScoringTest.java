package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.attack.GradientCounts;

class ScoringTest {
    private static Scoring.Chunk chunk(float[] purifiedClean, float[] purifiedAdversarial) {
        // two 1x2x2 images
        float[] clean = {0.2f, 0.5f, 0.7f, 0.9f, 0f, 0f, 1f, 1f};
        float[] adv = {0.3f, 0.4f, 0.8f, 0.8f, 0.1f, 0f, 0.9f, 1f};
        return new Scoring.Chunk(1, "cell", 0, 0, new int[] {3, 4}, clean, adv, null, new boolean[2],
                new int[][] {{3, 4}}, new int[][] {{3, 1}}, 1, 2, 2, 1, 1, GradientCounts.NONE, null, purifiedClean,
                purifiedAdversarial, null);
    }

    @Test
    void recordsCarryThePurifiedImagesFidelityToTheCleanImage() {
        // given purified adversarial images 0.1 off the clean ones everywhere (image 0) and purified clean images equal
        // to the clean ones except one pixel 0.2 off (image 1)
        float[] pa = {0.3f, 0.6f, 0.8f, 1.0f, 0.1f, 0.1f, 0.9f, 0.9f};
        float[] pc = {0.2f, 0.5f, 0.7f, 0.9f, 0.2f, 0f, 1f, 1f};

        // when the chunk is scored
        List<SampleRecord> recs = Scoring.records(chunk(pc, pa));

        // then PSNR is 20 dB for the uniform 0.1 error, +∞ for identical images, and 10 log10(4 / 0.04) = 20 dB for one
        // pixel of four 0.2 off; SSIM is Metrics.ssim of the same pair
        SampleRecord.Fidelity f0 = recs.get(0).purified();
        assertEquals(20.0, f0.psnr(), 1e-5);
        assertEquals(Double.POSITIVE_INFINITY, f0.cleanPsnr());
        assertEquals(1.0, f0.cleanSsim(), 1e-9);
        assertEquals(Metrics.ssim(pa, 0, chunk(null, null).clean(), 0, 1, 2, 2), f0.ssim(), 0);
        assertEquals(20.0, recs.get(1).purified().psnr(), 1e-5);
        assertEquals(20.0, recs.get(1).purified().cleanPsnr(), 1e-5);
    }

    @Test
    void undefendedChunksHaveNoFidelity() {
        assertNull(Scoring.records(chunk(null, null)).get(0).purified());
    }
}
