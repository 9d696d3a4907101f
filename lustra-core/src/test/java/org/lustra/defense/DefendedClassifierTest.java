package org.lustra.defense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.defense.classic.BitDepth;
import org.lustra.model.Classifier;

class DefendedClassifierTest {
    /** logits = (w·x, 0) on 2×2 single-channel images. */
    static Classifier linear(float[] w) {
        return new Classifier() {
            @Override
            public String name() {
                return "linear";
            }

            @Override
            public int channels() {
                return 1;
            }

            @Override
            public int size() {
                return 2;
            }

            @Override
            public List<String> classNames() {
                return List.of("a", "b");
            }

            @Override
            public Output forward(NDArray x) {
                NDArray wa = x.getManager().create(w, new Shape(4, 1));
                NDArray s = x.reshape(x.getShape().get(0), 4).matMul(wa);
                return new Output(s.concat(s.zerosLike(), 1), List.of());
            }

            @Override
            public void close() {}
        };
    }

    @Test
    void bpdaForwardsThroughThePurifierAndBackwardsAsIdentity() {
        float[] w = {0.5f, -2f, 1f, 3f};
        DefendedClassifier d = new DefendedClassifier(new BitDepth(1), linear(w));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {0.2f, 0.7f, 0.6f, 0.1f}, new Shape(1, 1, 2, 2));
            x.setRequiresGradient(true);
            NDArray logits;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                logits = d.logits(x, GradientMode.BPDA, 0);
                gc.backward(logits.get(":, 0").sum());
            }
            // forward: bit depth 1 rounds to (0, 1, 1, 0) → w·(0,1,1,0) = −1
            assertArrayEquals(new float[] {-1f, 0f}, logits.toFloatArray(), 1e-6f);
            // backward: identity through the purifier → d(w·x)/dx = w
            assertArrayEquals(w, x.getGradient().toFloatArray(), 1e-6f);
            assertThrows(IllegalArgumentException.class, () -> d.logits(x, GradientMode.EXACT, 0));
        }
    }
}
