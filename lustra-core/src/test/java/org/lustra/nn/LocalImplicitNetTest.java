package org.lustra.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

class LocalImplicitNetTest {

    @Test
    void givenFeatures_whenLatentCodesAreBuilt_thenEachPixelHoldsItsZeroPaddedNeighbourhoodAndCoordinates() {
        try (NDManager m = NDManager.newBaseManager()) {
            // one channel, 3×3 features 1..9
            NDArray f = m.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, new Shape(1, 1, 3, 3));
            NDArray z = LocalImplicitNet.latentCodes(f);
            assertEquals(new Shape(1, 13, 3, 3), z.getShape());
            // at the top-left pixel: offsets (-1,-1) … (1,1) in row-major order, zero outside the image
            assertArrayEquals(new float[] {0, 0, 0, 0, 1, 2, 0, 4, 5, 0, 0, 2, 2},
                    z.get("0, :, 0, 0").toFloatArray(), 0f);
            // at the centre: the whole map; relative coordinate (0, 0); scaled cell (2, 2)
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 2, 2},
                    z.get("0, :, 1, 1").toFloatArray(), 0f);
        }
    }

    @Test
    void givenAMultiChannelBatch_whenReconstructed_thenTheOutputHasTheInputShape() {
        try (NDManager m = NDManager.newBaseManager()) {
            LocalImplicitNet net = new LocalImplicitNet(new LocalImplicitNet.Config(3, 4, 1, 8, 2));
            net.initialize(m, DataType.FLOAT32, new Shape(1, 3, 6, 6));
            NDArray x = m.randomUniform(0, 1, new Shape(2, 3, 6, 6));
            assertEquals(new Shape(2, 3, 6, 6), net.reconstruct(new ParameterStore(m, false), x, false).getShape());
        }
    }
}
