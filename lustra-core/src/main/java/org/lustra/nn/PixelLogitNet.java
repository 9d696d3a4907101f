package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * What the mask networks ({@link MaskUNet}, {@link ConvAutoencoder}) share: sizes (input channels C, a first-level
 * width, {@code depth} halvings) checked one way, and a map (N, C, H, W) with H and W divisible by 2^depth taken to one
 * logit per pixel (N, 1, H, W).
 */
public abstract class PixelLogitNet extends AbstractBlock {
    private final String name;
    private final int channels;
    private final int depth;

    /** {@code name} names the network in error messages. */
    PixelLogitNet(String name, int channels, int depth) {
        this.name = name;
        this.channels = channels;
        this.depth = depth;
    }

    /**
     * Refuses sizes outside channels 1..4, width a multiple of {@value ConvolutionCheck#CHANNEL_BLOCK} up to 256
     * ({@link ConvolutionCheck#CHANNEL_BLOCK} says why) and depth 1..4, in one sentence naming the network.
     */
    static void requireSizes(String name, int channels, int width, int depth) {
        if (channels < 1 || channels > 4 || width < 1 || width > 256 || width % ConvolutionCheck.CHANNEL_BLOCK != 0
                || depth < 1 || depth > 4) {
            throw new IllegalArgumentException("Invalid " + name + ": channels " + channels + " (1..4), width " + width
                    + " (a multiple of " + ConvolutionCheck.CHANNEL_BLOCK + " up to 256), depth " + depth + " (1..4)");
        }
    }

    /** Per-pixel logits (N, 1, H, W) of x; owned by x's manager. */
    public abstract NDArray logits(ParameterStore ps, NDArray x, boolean training);

    /** Refuses an input that is not (N, C, H, W) with H and W divisible by 2^depth. */
    void requireInput(Shape s) {
        int f = 1 << depth;
        if (s.dimension() != 4 || s.get(1) != channels || s.get(2) % f != 0 || s.get(3) % f != 0) {
            throw new IllegalArgumentException("The " + name + " takes (N, " + channels + ", H, W) with H and W "
                    + "divisible by " + f + ", got " + s);
        }
    }

    @Override
    protected final NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
            PairList<String, Object> params) {
        return new NDList(logits(ps, inputs.singletonOrThrow(), training));
    }

    @Override
    public final Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {new Shape(in.get(0), 1, in.get(2), in.get(3))};
    }
}
