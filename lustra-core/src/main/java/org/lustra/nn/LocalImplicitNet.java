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
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * An EDSR-style residual convolutional encoder (Lim et al., 2017: conv, residual blocks conv–ReLU–conv without
 * normalisation, conv, global skip) followed by a local implicit function head (LIIF, Chen et al., 2021), the
 * architecture of DISCO (Ho and Vasconcelos, 2022). The head is an MLP applied at every output pixel to the latent
 * code there — the 3×3 neighbourhood of encoder features, unfolded — concatenated with the query's coordinate relative
 * to that code and the cell size, all in LIIF's [-1, 1] coordinates scaled by the feature size.
 *
 * <p>Output resolution = input resolution (purification). There, LIIF's local ensemble collapses: a query at pixel
 * (i, j) samples the codes at (i, j), (i+1, j), (i, j+1), (i+1, j+1) with relative coordinates 0 or −2, their areas
 * are 0 except the diagonal one, and the area swap gives the own code weight 1 (up to LIIF's 1e-9 area floor). So the
 * head here is that exact limit: the own code with relative coordinate (0, 0) and cell 2 (LIIF's 2/H scaled by the
 * feature size H), as channels, the MLP as 1×1 convolutions. (LIIF clamps the neighbour of the last row and column to
 * the image, which there mixes in a neighbour's prediction; the interior form is used everywhere here.)
 *
 * <p>Images come in and go out in [0, 1] (unclamped out); inside, pixels are mapped to [-1, 1].
 */
public final class LocalImplicitNet extends AbstractBlock {

    /**
     * Sizes; validated.
     *
     * @param channels image channels C
     * @param width encoder feature channels
     * @param blocks residual blocks
     * @param hidden width of the per-pixel MLP
     * @param hiddenLayers hidden layers of the MLP
     */
    public record Config(int channels, int width, int blocks, int hidden, int hiddenLayers) {
        public Config {
            if (channels < 1 || width < 1 || blocks < 0 || hidden < 1 || hiddenLayers < 1) {
                throw new IllegalArgumentException("Invalid local implicit network: channels " + channels + ", width "
                        + width + ", blocks " + blocks + ", MLP " + hidden + "x" + hiddenLayers
                        + " (widths >= 1, blocks >= 0, hidden layers >= 1)");
            }
        }
    }

    private final Config config;
    private final Conv2d head;
    private final List<ResidualBlock> body = new ArrayList<>();
    private final Conv2d bodyEnd;
    private final List<Conv2d> mlp = new ArrayList<>();

    public LocalImplicitNet(Config c) {
        this.config = c;
        head = addChildBlock("head", Layers.conv(c.width(), 3, 1, true));
        for (int i = 0; i < c.blocks(); i++) {
            body.add(addChildBlock("res" + i, new ResidualBlock(c.width())));
        }
        bodyEnd = addChildBlock("body_end", Layers.conv(c.width(), 3, 1, true));
        for (int i = 0; i < c.hiddenLayers(); i++) {
            mlp.add(addChildBlock("mlp" + i, Layers.conv(c.hidden(), 1, 1, true)));
        }
        mlp.add(addChildBlock("mlp_out", Layers.conv(c.channels(), 1, 1, true)));
    }

    public Config config() {
        return config;
    }

    /** EDSR features (N, width, H, W) of x in [0, 1]; owned by x's manager. */
    public NDArray features(ParameterStore ps, NDArray x, boolean training) {
        NDArray h = Layers.call(head, ps, Scalars.mul(x, 2).sub(1f), training);
        NDArray r = h;
        for (ResidualBlock b : body) {
            r = Layers.call(b, ps, r, training);
        }
        return h.add(Layers.call(bodyEnd, ps, r, training));
    }

    /**
     * The latent code at every pixel: the 3×3 neighbourhood of features (zero outside the image) stacked channel-wise
     * in row-major offset order, then relative coordinate (0, 0) and scaled cell (2, 2) — (N, 9·width + 4, H, W), owned
     * by f's manager.
     */
    public static NDArray latentCodes(NDArray f) {
        Shape s = f.getShape();
        long h = s.get(2);
        long w = s.get(3);
        NDArray padded = f.pad(new Shape(1, 1, 1, 1), 0);
        NDList parts = new NDList();
        for (int dy = 0; dy < 3; dy++) {
            for (int dx = 0; dx < 3; dx++) {
                parts.add(padded.get(":, :, " + dy + ":" + (dy + h) + ", " + dx + ":" + (dx + w)));
            }
        }
        NDManager m = f.getManager();
        Shape plane = new Shape(s.get(0), 1, h, w);
        parts.add(m.zeros(plane));
        parts.add(m.zeros(plane));
        parts.add(m.full(plane, 2f));
        parts.add(m.full(plane, 2f));
        return NDArrays.concat(parts, 1);
    }

    /** The purified image (N, C, H, W) of x in [0, 1], unclamped; owned by x's manager. */
    public NDArray reconstruct(ParameterStore ps, NDArray x, boolean training) {
        NDArray z = latentCodes(features(ps, x, training));
        for (int i = 0; i < mlp.size() - 1; i++) {
            z = Activation.relu(Layers.call(mlp.get(i), ps, z, training));
        }
        NDArray y = Layers.call(mlp.get(mlp.size() - 1), ps, z, training);
        return Scalars.mul(y.add(1f), 0.5);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
            PairList<String, Object> params) {
        return new NDList(reconstruct(ps, inputs.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape in = inputShapes[0];
        Shape feat = new Shape(in.get(0), config.width(), in.get(2), in.get(3));
        head.initialize(manager, dataType, in);
        for (ResidualBlock b : body) {
            b.initialize(manager, dataType, feat);
        }
        bodyEnd.initialize(manager, dataType, feat);
        Shape z = new Shape(in.get(0), 9L * config.width() + 4, in.get(2), in.get(3));
        for (int i = 0; i < mlp.size(); i++) {
            mlp.get(i).initialize(manager, dataType, z);
            z = new Shape(in.get(0), config.hidden(), in.get(2), in.get(3));
        }
    }

    /** x + conv(ReLU(conv(x))): EDSR's block, no normalisation (it removes range flexibility, Lim et al.). */
    static final class ResidualBlock extends AbstractBlock {
        private final Conv2d c1;
        private final Conv2d c2;

        ResidualBlock(int width) {
            c1 = addChildBlock("c1", Layers.conv(width, 3, 1, true));
            c2 = addChildBlock("c2", Layers.conv(width, 3, 1, true));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                PairList<String, Object> params) {
            NDArray x = inputs.singletonOrThrow();
            NDArray r = Layers.call(c2, ps, Activation.relu(Layers.call(c1, ps, x, training)), training);
            return new NDList(x.add(r));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[] {inputShapes[0]};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            c1.initialize(manager, dataType, inputShapes[0]);
            c2.initialize(manager, dataType, inputShapes[0]);
        }
    }
}
