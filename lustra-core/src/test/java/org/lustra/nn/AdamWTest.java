package org.lustra.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdamWTest {

    private static void backward(Linear lin, NDArray x, NDManager m) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray y = lin.forward(new ParameterStore(m, false), new NDList(x), true).singletonOrThrow();
            gc.backward(y.square().sum());
        }
    }

    private static List<float[]> gradients(Linear lin) {
        List<float[]> out = new ArrayList<>();
        for (var p : lin.getParameters()) {
            out.add(p.getValue().getArray().getGradient().toFloatArray());
        }
        return out;
    }

    /** The training skip guard relies on this: after a non-finite gradient, a reset must really clear it. */
    @Test
    void aNonFiniteGradientIsClearedByTheResetAndTheNextStepIsClean() {
        try (NDManager m = NDManager.newBaseManager()) {
            Linear lin = Linear.builder().setUnits(3).build();
            lin.setInitializer(new NormalInitializer(), Parameter.Type.WEIGHT);
            lin.initialize(m, DataType.FLOAT32, new Shape(2, 4));
            AdamW adam = new AdamW(lin, m, 0f);
            NDArray x = m.create(new float[] {1, -2, 0.5f, 3, 0, 1, -1, 2}, new Shape(2, 4));

            backward(lin, x, m);
            List<float[]> clean = gradients(lin);
            assertTrue(Float.isFinite(adam.gradientL1(m)) && adam.gradientL1(m) > 0);

            for (var p : lin.getParameters()) {
                p.getValue().getArray().getGradient().set(new float[Math.toIntExact(p.getValue().getArray().size())]);
                p.getValue().getArray().getGradient().addi(Float.NaN);
            }
            assertFalse(Float.isFinite(adam.gradientL1(m)), "poisoned");
            adam.zeroGradients(m);
            assertEquals(0f, adam.gradientL1(m), "reset clears NaN, not NaN·0");

            backward(lin, x, m);
            List<float[]> again = gradients(lin);
            for (int i = 0; i < clean.size(); i++) {
                assertArrayEquals(clean.get(i), again.get(i), 1e-6f, "fresh gradient after the reset");
            }
            adam.step(m, 1e-2f);
            assertEquals(0f, adam.gradientL1(m), "step leaves zero gradients");
            for (var p : lin.getParameters()) {
                for (float v : p.getValue().getArray().toFloatArray()) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
    }
}
