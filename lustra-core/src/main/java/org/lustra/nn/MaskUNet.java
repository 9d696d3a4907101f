package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * A small U-Net (Ronneberger et al., 2015) that maps an image (N, C, H, W) in [0, 1] to one logit per pixel
 * (N, 1, H, W): {@code depth} down levels of two 3×3 convolutions with ReLU and a 2×2 max-pool (width doubling per
 * level), a bottom level, and as many up levels of nearest ×2 up-sampling, concatenation with the skip of the same
 * resolution and two convolutions; a 1×1 head. No normalisation layer: the net is shallow, and without batch
 * statistics a forward pass of one image is the same in training and in evaluation, so the attack's graph and the
 * trained function agree. Up-sampling is nearest + convolution because DJL's transposed convolution throws on
 * PyTorch (DJL-NOTES).
 */
public final class MaskUNet extends PixelLogitNet {
    private static final String NAME = "mask U-Net";

    /**
     * Sizes; validated.
     *
     * @param channels image channels C
     * @param width channels of the first level (doubled at every level down); a multiple of
     *     {@value ConvolutionCheck#CHANNEL_BLOCK}, so every convolution's input (level widths and their concatenations)
     *     is one ({@link ConvolutionCheck#CHANNEL_BLOCK} says why)
     * @param depth number of 2×2 poolings; H and W must be divisible by 2^depth
     */
    public record Config(int channels, int width, int depth) {
        public Config {
            requireSizes(NAME, channels, width, depth);
        }
    }

    private final Config config;
    private final List<DoubleConv> down = new ArrayList<>();
    private final DoubleConv bottom;
    private final List<DoubleConv> up = new ArrayList<>();
    private final Conv2d head;

    public MaskUNet(Config c) {
        super(NAME, c.channels(), c.depth());
        this.config = c;
        for (int l = 0; l < c.depth(); l++) {
            down.add(addChildBlock("down" + l, new DoubleConv(c.width() << l)));
        }
        bottom = addChildBlock("bottom", new DoubleConv(c.width() << c.depth()));
        for (int l = c.depth() - 1; l >= 0; l--) {
            up.add(addChildBlock("up" + l, new DoubleConv(c.width() << l)));
        }
        head = addChildBlock("head", Layers.conv(1, 1, 1, true));
    }

    public Config config() {
        return config;
    }

    /** Per-pixel logits (N, 1, H, W) of x in [0, 1]; owned by x's manager. */
    @Override
    public NDArray logits(ParameterStore ps, NDArray x, boolean training) {
        requireInput(x.getShape());
        NDArray h = x.sub(0.5f); // centre the input; add/sub by a number is autograd-safe (README, engine facts)
        List<NDArray> skips = new ArrayList<>();
        for (DoubleConv d : down) {
            h = Layers.call(d, ps, h, training);
            skips.add(h);
            h = Pool.maxPool2d(h, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
        }
        h = Layers.call(bottom, ps, h, training);
        for (int i = 0; i < up.size(); i++) {
            NDArray skip = skips.get(skips.size() - 1 - i);
            NDArray u = h.repeat(2, 2).repeat(3, 2);
            h = Layers.call(up.get(i), ps, NDArrays.concat(new NDList(u, skip), 1), training);
        }
        return Layers.call(head, ps, h, training);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape in = inputShapes[0];
        long n = in.get(0);
        long c = in.get(1);
        for (int l = 0; l < config.depth(); l++) {
            down.get(l).initialize(manager, dataType, new Shape(n, c, in.get(2) >> l, in.get(3) >> l));
            c = (long) config.width() << l;
        }
        int d = config.depth();
        bottom.initialize(manager, dataType, new Shape(n, c, in.get(2) >> d, in.get(3) >> d));
        long below = (long) config.width() << d;
        for (int i = 0; i < up.size(); i++) {
            int l = d - 1 - i;
            long skip = (long) config.width() << l;
            up.get(i).initialize(manager, dataType, new Shape(n, below + skip, in.get(2) >> l, in.get(3) >> l));
            below = skip;
        }
        head.initialize(manager, dataType, new Shape(n, config.width(), in.get(2), in.get(3)));
    }

    /** conv3×3 – ReLU – conv3×3 – ReLU at one width. */
    static final class DoubleConv extends AbstractBlock {
        private final Conv2d c1;
        private final Conv2d c2;
        private final int width;

        DoubleConv(int width) {
            this.width = width;
            c1 = addChildBlock("c1", Layers.conv(width, 3, 1, true));
            c2 = addChildBlock("c2", Layers.conv(width, 3, 1, true));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                PairList<String, Object> params) {
            NDArray x = inputs.singletonOrThrow();
            NDArray h = Activation.relu(Layers.call(c1, ps, x, training));
            return new NDList(Activation.relu(Layers.call(c2, ps, h, training)));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape in = inputShapes[0];
            return new Shape[] {new Shape(in.get(0), width, in.get(2), in.get(3))};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            Shape in = inputShapes[0];
            c1.initialize(manager, dataType, in);
            c2.initialize(manager, dataType, new Shape(in.get(0), width, in.get(2), in.get(3)));
        }
    }
}
