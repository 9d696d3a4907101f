package org.lustra.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.util.LustraException;

class UNetTest {
    static final List<String> VOCAB = List.of("<pad>", "<sos>", "<eos>", "a", "photo", "of", "bag", "patch");

    @Test
    void unetMapsInpaintingInputToNoiseShapeAndGradientsReachThePrompt() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            PromptEncoder enc = new PromptEncoder(VOCAB, 6, 8, 1, 2);
            enc.setInitializer(new NormalInitializer(0.1f), p -> p.getInitializer() == null
                    && p.getType() == Parameter.Type.WEIGHT);
            enc.initialize(m, DataType.FLOAT32, new Shape(2, 6, 8));
            UNet unet = new UNet(1, new int[] {8, 16}, 2, 8, 4);
            unet.setInitializer(new NormalInitializer(0.1f), p -> p.getInitializer() == null
                    && p.getType() == Parameter.Type.WEIGHT);
            unet.initialize(m, DataType.FLOAT32, new Shape(2, 3, 7, 7), new Shape(2), new Shape(2, 6, 8));
            ParameterStore ps = new ParameterStore(m, false);

            NDArray x = m.randomNormal(new Shape(2, 3, 7, 7));
            NDArray t = m.create(new float[] {10f, 500f});
            NDArray tokens = enc.embed(ps, m, new int[][] {enc.tokenize("a photo of bag"), enc.tokenize("")}, false);
            NDArray ctx = enc.forward(ps, new NDList(tokens), false).singletonOrThrow();
            assertEquals(new Shape(2, 6, 8), ctx.getShape());
            NDArray eps = unet.forward(ps, new NDList(x, t, ctx), false).singletonOrThrow();
            assertEquals(new Shape(2, 1, 7, 7), eps.getShape(), "odd sizes survive the down/up path");
            assertEquals(0f, eps.abs().sum().getFloat(), "zero-initialised output layer predicts zero noise");

            // give the output layer weights, then check gradients reach a continuous prompt embedding
            for (var p : unet.getParameters()) {
                if (p.getKey().contains("out_weight")) {
                    p.getValue().getArray().set(m.randomNormal(0, 0.1f, p.getValue().getArray().getShape(),
                            DataType.FLOAT32).toFloatArray());
                }
            }
            unet.freezeParameters(true);
            enc.freezeParameters(true);
            NDArray learned = m.randomNormal(new Shape(2, 6, 8));
            learned.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray c = enc.forward(ps, new NDList(learned), true).singletonOrThrow();
                NDArray out = unet.forward(ps, new NDList(x, t, c), true).singletonOrThrow();
                gc.backward(out.square().sum());
            }
            assertTrue(learned.getGradient().abs().sum().getFloat() > 0, "prompt vectors receive gradient");
        }
    }

    @Test
    void tokenizerLaysOutPromptsAndRejectsUnknownWords() {
        PromptEncoder enc = new PromptEncoder(VOCAB, 6, 8, 1, 2);
        assertEquals(List.of(1, 3, 4, 5, 6, 2), java.util.Arrays.stream(enc.tokenize("A photo of bag.")).boxed().toList());
        assertEquals(List.of(1, 2, 0, 0, 0, 0), java.util.Arrays.stream(enc.tokenize("")).boxed().toList());
        LustraException e = assertThrows(LustraException.class, () -> enc.tokenize("a photo of a cat"));
        assertTrue(e.getMessage().contains("'cat'") && e.getMessage().contains("patch"), e.getMessage());
        assertThrows(LustraException.class, () -> enc.tokenize("a a a a a"));
    }

    @Test
    void flopCountMatchesAHandTallyOfAOneLevelUNet() {
        // widths {8}, 1 channel, 4x4 (16 positions), context 3x4, time width 32. By hand, layer by layer:
        long in = 2L * 3 * 8 * 9 * 16;                          // [x_t, mask, masked] -> 8, 3x3
        long time = 2L * (8 * 32 + 32 * 32);                    // timestep MLP
        long res88 = 2 * (2L * 8 * 8 * 9 * 16) + 2L * 32 * 8;   // two 3x3 convs + time projection
        long selfAttn = 2L * 16 * 8 * 24 + 4L * 16 * 16 * 8 + 2L * 16 * 8 * 8;
        long crossAttn = 2L * 16 * 8 * 8 + 2L * 3 * 4 * 16 + 4L * 16 * 3 * 8 + 2L * 16 * 8 * 8;
        long up = 2L * 16 * 8 * 9 * 16 + 2L * 8 * 8 * 9 * 16 + 2L * 16 * 8 * 16 + 2L * 32 * 8; // skip concat -> 8
        long out = 2L * 8 * 1 * 9 * 16;
        long expected = in + time + res88 + 2 * res88 + selfAttn + crossAttn + up + out;
        assertEquals(expected, new UNet(1, new int[] {8}, 2, 4, 4).flopsPerImage(4, 3, 4));
    }
}
