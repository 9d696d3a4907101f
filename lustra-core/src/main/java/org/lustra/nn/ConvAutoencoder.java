package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
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
public final class ConvAutoencoder extends PixelLogitNet {
    private static final String NAME = "conv autoencoder";

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
            requireSizes(NAME, channels, width, depth);
        }
    }

    private final Config config;
    private final Conv2d stem;
    private final List<Conv2d> down = new ArrayList<>();
    private final List<Conv2d> up = new ArrayList<>();
    private final Conv2d head;

    public ConvAutoencoder(Config c) {
        super(NAME, c.channels(), c.depth());
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

    @Override
    public NDArray logits(ParameterStore ps, NDArray x, boolean training) {
        requireInput(x.getShape());
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
