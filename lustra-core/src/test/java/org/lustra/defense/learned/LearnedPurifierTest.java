package org.lustra.defense.learned;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.lustra.defense.GradientMode;

class LearnedPurifierTest {

    @Test
    void givenOutputsOutsideTheUnitRange_whenDifferentiatedWithSte_thenTheClampPassesStraightThroughWhereExactStops() {
        try (NDManager m = NDManager.newBaseManager();
                LearnedPurifier p = new LearnedPurifier("affine", new Affine())) {
            assertTrue(p.gradientModes().contains(GradientMode.STE));
            // raw outputs 2x − 0.5: −0.5, −0.1, 1.3 and 1.5 leave [0, 1] (clamped to 0, 0, 1, 1); the others stay
            NDArray x = m.create(new float[] {0f, 0.2f, 0.3f, 0.7f, 0.9f, 0.5f, 0.4f, 0.6f, 1f}, new Shape(1, 1, 3, 3));
            assertArrayEquals(new float[] {0f, 0f, 0.1f, 0.9f, 1f, 0.5f, 0.3f, 0.7f, 1f}, p.purify(x, 0).toFloatArray(),
                    1e-6f);
            assertArrayEquals(p.purify(x, 0).toFloatArray(), p.purifyForAttack(x, 0).toFloatArray(), 0f);

            NDArray w = m.create(new float[] {1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f}, new Shape(1, 1, 3, 3));
            // d/dx Σ w·out: 2w where the output is in range; EXACT gives 0 where the clamp holds it, STE 2w everywhere
            assertArrayEquals(new float[] {0f, 0f, 6f, 8f, 0f, 12f, 14f, 16f, 0f},
                    gradient(x, leaf -> p.purify(leaf, 0).mul(w).sum()), 1e-6f);
            assertArrayEquals(new float[] {2f, 4f, 6f, 8f, 10f, 12f, 14f, 16f, 18f},
                    gradient(x, leaf -> p.purifyForAttack(leaf, 0).mul(w).sum()), 1e-6f);
            assertEquals("exact through the network, the clamp to [0, 1] passed straight through", p.straightThrough());
        }
    }

    private static float[] gradient(NDArray x, Function<NDArray, NDArray> f) {
        NDArray leaf = x.duplicate();
        leaf.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(f.apply(leaf));
        }
        return leaf.getGradient().toFloatArray();
    }

    /** A hand-made "network" on 3×3 images: out = 2x − 0.5, so its outputs leave [0, 1] where we choose. */
    private static final class Affine implements PurifierNetwork {
        @Override
        public String kind() {
            return "affine";
        }

        @Override
        public Map<String, Object> configFields() {
            return Map.of();
        }

        @Override
        public Loss loss(ParameterStore ps, NDArray adversarial, NDArray clean, SplittableRandom rng) {
            throw new UnsupportedOperationException("not trained");
        }

        @Override
        public NDArray reconstruct(ParameterStore ps, NDArray x) {
            return x.mul(2f).sub(0.5f);
        }

        @Override
        public int channels() {
            return 1;
        }

        @Override
        public int size() {
            return 3;
        }

        @Override
        public Block block() {
            throw new UnsupportedOperationException("no parameters");
        }

        @Override
        public void close() {}
    }
}
