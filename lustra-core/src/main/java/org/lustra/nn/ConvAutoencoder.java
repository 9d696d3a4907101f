package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain convolutional autoencoder (no skip connections) that maps a map (N, C, H, W) to one logit per pixel
 * (N, 1, H, W): a 3×3 convolution at full resolution, {@code depth} stride-2 3×3 convolutions that halve the side and
 * double the width, then {@code depth} levels of nearest ×2 up-sampling and a 3×3 convolution that halve the width
 * back, ReLU after each, and a 1×1 head. Without skips, everything the output holds has passed the bottleneck at
 * H/2^depth: the network must complete a shape from its coarse summary rather than copy its input through, which is
 * what Jedi's mask autoencoder is for. No normalisation (one image's pass is the same in training and evaluation).
 * Up-sampling is nearest + convolution because DJL's transposed convolution throws on PyTorch (DJL-NOTES).
 */
public final class ConvAutoencoder extends AbstractBlock {

    /**
     * Sizes; validated.
     *
     * @param channels input channels C
     * @param width channels at full resolution (doubled per level down); a multiple of
     *     {@value ConvolutionCheck#CHANNEL_BLOCK} ({@link ConvolutionCheck#CHANNEL_BLOCK} says why)
     * @param depth stride-2 levels; H and W must be divisible by 2^depth
     */
    public record Config(int channels, int width, int depth) {
        public Config {
            if (channels < 1 || channels > 4 || width < 1 || width > 256 || width % ConvolutionCheck.CHANNEL_BLOCK != 0
                    || depth < 1 || depth > 4) {
                throw new IllegalArgumentException("Invalid conv autoencoder: channels " + channels + " (1..4), width "
                        + width + " (a multiple of " + ConvolutionCheck.CHANNEL_BLOCK + " up to 256), depth " + depth
                        + " (1..4)");
            }
        }
    }

    private final Config config;
    private final Conv2d stem;
    private final List<Conv2d> down = new ArrayList<>();
    private final List<Conv2d> up = new ArrayList<>();
    private final Conv2d head;

    public ConvAutoencoder(Config c) {
        this.config = c;
        stem = addChildBlock("stem", Layers.conv(c.width(), 3, 1, true));
        for (int l = 1; l <= c.depth(); l++) {
            down.add(addChildBlock("down" + l, Layers.conv(c.width() << l, 3, 2, true)));
        }
        for (int l = c.depth() - 1; l >= 0; l--) {
            up.add(addChildBlock("up" + l, Layers.conv(c.width() << l, 3, 1, true)));
        }
        head = addChildBlock("head", Layers.conv(1, 1, 1, true));
    }

    public Config config() {
        return config;
    }

    /** Per-pixel logits (N, 1, H, W) of x; owned by x's manager. */
    public NDArray logits(ParameterStore ps, NDArray x, boolean training) {
        int f = 1 << config.depth();
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(1) != config.channels() || s.get(2) % f != 0 || s.get(3) % f != 0) {
            throw new IllegalArgumentException("The conv autoencoder takes (N, " + config.channels() + ", H, W) with H "
                    + "and W divisible by " + f + ", got " + s);
        }
        NDArray h = Activation.relu(Layers.call(stem, ps, x.sub(0.5f), training)); // sub by a number is autograd-safe
        for (Conv2d d : down) {
            h = Activation.relu(Layers.call(d, ps, h, training));
        }
        for (Conv2d u : up) {
            h = Activation.relu(Layers.call(u, ps, h.repeat(2, 2).repeat(3, 2), training));
        }
        return Layers.call(head, ps, h, training);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
            PairList<String, Object> params) {
        return new NDList(logits(ps, inputs.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {new Shape(in.get(0), 1, in.get(2), in.get(3))};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape in = inputShapes[0];
        long n = in.get(0);
        stem.initialize(manager, dataType, in);
        long c = config.width();
        for (int l = 1; l <= config.depth(); l++) {
            down.get(l - 1).initialize(manager, dataType, new Shape(n, c, in.get(2) >> (l - 1), in.get(3) >> (l - 1)));
            c = (long) config.width() << l;
        }
        for (int i = 0; i < up.size(); i++) {
            int l = config.depth() - 1 - i;
            up.get(i).initialize(manager, dataType, new Shape(n, c, in.get(2) >> l, in.get(3) >> l));
            c = (long) config.width() << l;
        }
        head.initialize(manager, dataType, new Shape(n, config.width(), in.get(2), in.get(3)));
    }
}
