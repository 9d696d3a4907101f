package org.lustra.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

class GroupNormTest {
    @Test
    void matchesTheDefinitionComputedInJava() {
        try (NDManager m = NDManager.newBaseManager()) {
            int n = 2;
            int c = 4;
            int hw = 6;
            int groups = 2;
            GroupNorm gn = new GroupNorm(groups);
            gn.initialize(m, DataType.FLOAT32, new Shape(n, c, 2, 3));
            // gamma = [1, 2, 3, 4], beta = [0.5, 0, -0.5, 1]
            gn.getParameters().get("gamma").getArray().set(new float[] {1, 2, 3, 4});
            gn.getParameters().get("beta").getArray().set(new float[] {0.5f, 0, -0.5f, 1});
            float[] x = new float[n * c * hw];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(i * 1.7) * (1 + i % 5);
            }
            NDArray in = m.create(x, new Shape(n, c, 2, 3));
            float[] got = gn.forward(new ParameterStore(m, false), new NDList(in), false).singletonOrThrow()
                    .toFloatArray();
            float[] gamma = {1, 2, 3, 4};
            float[] beta = {0.5f, 0, -0.5f, 1};
            int per = c / groups * hw;
            for (int b = 0; b < n; b++) {
                for (int g = 0; g < groups; g++) {
                    int off = (b * c + g * (c / groups)) * hw;
                    double mean = 0;
                    for (int k = 0; k < per; k++) {
                        mean += x[off + k] / (double) per;
                    }
                    double var = 0;
                    for (int k = 0; k < per; k++) {
                        var += Math.pow(x[off + k] - mean, 2) / per;
                    }
                    for (int k = 0; k < per; k++) {
                        int ch = g * (c / groups) + k / hw;
                        double want = (x[off + k] - mean) / Math.sqrt(var + 1e-5) * gamma[ch] + beta[ch];
                        assertEquals(want, got[off + k], 1e-4, "b=" + b + " g=" + g + " k=" + k);
                    }
                }
            }
            // inference and training modes agree (no running statistics)
            float[] train = gn.forward(new ParameterStore(m, false), new NDList(in), true).singletonOrThrow()
                    .toFloatArray();
            assertArrayEquals(got, train, 0f);
        }
    }
}
