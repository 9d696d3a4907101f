package org.lustra.diffusion;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;

/** The shipped unified diffusion model loads (hash and architecture checked) and denoises shipped images. */
class ShippedDiffusionTest {
    @Test
    void oneStepX0BeatsTheNoisyInputOnShippedImages() {
        ImageSet eval = Subsets.load("eval512").subset(java.util.stream.IntStream.range(0, 32).toArray());
        try (DiffusionModel m = DiffusionModel.load("diffusion-unified")) {
            for (int t : new int[] {100, 300}) {
                DiffusionQuality.X0Result r = DiffusionQuality.oneStepPsnr(m, eval, t, 7, 32);
                assertTrue(r.psnrX0() > r.psnrNoisy() + 2, "t=" + t + ": x0 PSNR " + r.psnrX0()
                        + " dB is not 2 dB above the noisy input's " + r.psnrNoisy() + " dB");
            }
        }
    }
}
