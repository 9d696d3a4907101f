package org.lustra.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class DiffusionQualityTest {
    @Test
    void psnrIsMeasuredInUnitRangeAndClampsPredictions() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray ref = m.zeros(new Shape(2, 1, 2, 2));
            // +0.2 in [-1, 1] is 0.1 in [0, 1]: MSE 0.01, PSNR 20 dB; two images → sum 40
            assertEquals(40.0, DiffusionQuality.sumPsnr(ref.add(0.2f), ref), 1e-4);
            // a prediction of 3.0 is clamped to 1.0: error 0.5 in [0, 1], MSE 0.25, PSNR 6.0206 dB
            assertEquals(2 * 6.0206, DiffusionQuality.sumPsnr(ref.add(3f), ref), 1e-3);
        }
    }
}
