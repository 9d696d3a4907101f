package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * The ε-prediction UNet of Lustra's unified diffusion model (SPEC §3), after Ho et al. (2020) and the Stable Diffusion
 * inpainting UNet (Rombach et al., 2022). Inputs, as an {@link NDList}:
 * <ol>
 *   <li>{@code [x_t, mask, masked_image]} concatenated on channels, (N, 2C + 1, H, W) — plain denoising uses mask 1
 *       everywhere and a zero masked image;</li>
 *   <li>timesteps (N) as float32;</li>
 *   <li>the prompt context (N, L, D) from {@link PromptEncoder}.</li>
 * </ol>
 * Levels: one per entry of {@code widths}, each halving the resolution (28 → 14 → 7). Every level has one residual
 * block (GroupNorm + SiLU, timestep added) on the way down and one on the way up; cross-attention to the prompt at all
 * levels but the first, self-attention at the lowest level and in the middle; up-sampling is a 3×3 convolution at the
 * lower resolution followed by nearest-neighbour repetition. Output: ε̂ (N, C, H, W).
 */
public final class UNet extends AbstractBlock {
    private final int imageChannels;
    private final int[] widths;
    private final int timeDim;
    private final Block inConv;
    private final Linear time1;
    private final Linear time2;
    private final List<ResBlock> down = new ArrayList<>();
    private final List<SpatialAttention> downAttn = new ArrayList<>();
    private final List<Block> downsample = new ArrayList<>();
    private final ResBlock mid1;
    private final SpatialAttention midAttn;
    private final ResBlock mid2;
    private final List<ResBlock> up = new ArrayList<>();
    private final List<SpatialAttention> upAttn = new ArrayList<>();
    private final List<Block> upsample = new ArrayList<>();
    private final GroupNorm outNorm;
    private final Block outConv;
    /**
     * The timestep embedding's frequencies, made once at initialisation beside the parameters (and freed with them):
     * made per call, they were a Java-to-engine copy per sampling step, each leaving a direct buffer for the garbage
     * collector (README, engine facts).
     */
    private NDArray freqs;

    public UNet(int imageChannels, int[] widths, int heads, int contextDim, int groups) {
        if (widths.length < 1 || imageChannels < 1) {
            throw new IllegalArgumentException("Invalid UNet: " + imageChannels + " channels, widths of length "
                    + widths.length);
        }
        this.imageChannels = imageChannels;
        this.widths = widths.clone();
        this.timeDim = 4 * widths[0];
        int levels = widths.length;
        inConv = addChildBlock("in", Layers.conv(widths[0], 3, 1, true));
        time1 = addChildBlock("time1", Linear.builder().setUnits(timeDim).build());
        time2 = addChildBlock("time2", Linear.builder().setUnits(timeDim).build());
        int prev = widths[0];
        for (int l = 0; l < levels; l++) {
            down.add(addChildBlock("down" + l, new ResBlock(prev, widths[l], groups)));
            downAttn.add(l == 0 ? null : addChildBlock("downattn" + l,
                    new SpatialAttention(widths[l], heads, contextDim, l == levels - 1, groups)));
            if (l < levels - 1) {
                downsample.add(addChildBlock("downsample" + l, Layers.conv(widths[l], 3, 2, true)));
            }
            prev = widths[l];
        }
        int last = widths[levels - 1];
        mid1 = addChildBlock("mid1", new ResBlock(last, last, groups));
        midAttn = addChildBlock("midattn", new SpatialAttention(last, heads, contextDim, true, groups));
        mid2 = addChildBlock("mid2", new ResBlock(last, last, groups));
        prev = last;
        for (int l = levels - 1; l >= 0; l--) {
            up.add(addChildBlock("up" + l, new ResBlock(prev + widths[l], widths[l], groups)));
            upAttn.add(l == 0 ? null : addChildBlock("upattn" + l,
                    new SpatialAttention(widths[l], heads, contextDim, l == levels - 1, groups)));
            prev = widths[l];
            if (l > 0) {
                upsample.add(addChildBlock("upsample" + l, Layers.conv(widths[l - 1], 3, 1, true)));
                prev = widths[l - 1];
            }
        }
        outNorm = addChildBlock("outnorm", GroupNorm.withSilu(groups));
        outConv = addChildBlock("out", Layers.conv(imageChannels, 3, 1, true));
        // Start as "predict zero noise" (a common trick that steadies early training).
        outConv.setInitializer(new ConstantInitializer(0f), ai.djl.nn.Parameter.Type.WEIGHT);
    }

    public int imageChannels() {
        return imageChannels;
    }

    /**
     * Floating-point operations of one forward pass per image (multiply-adds × 2 of the convolutions, linear layers
     * and attention products; normalisation and activations excluded), for benchmarks' achieved GFLOP/s.
     */
    public long flopsPerImage(int size, int contextLength, int contextDim) {
        int levels = widths.length;
        long[] hw = new long[levels];
        long h = size;
        long w = size;
        for (int l = 0; l < levels; l++) {
            hw[l] = h * w;
            h = (h + 1) / 2;
            w = (w + 1) / 2;
        }
        long f = conv(2L * imageChannels + 1, widths[0], 3, hw[0]) + 2L * (widths[0] * (long) timeDim
                + (long) timeDim * timeDim);
        int prev = widths[0];
        for (int l = 0; l < levels; l++) {
            f += res(prev, widths[l], hw[l]);
            f += l == 0 ? 0 : attn(widths[l], hw[l], l == levels - 1, contextLength, contextDim);
            if (l < levels - 1) {
                f += conv(widths[l], widths[l], 3, hw[l + 1]);
            }
            prev = widths[l];
        }
        int last = widths[levels - 1];
        f += 2 * res(last, last, hw[levels - 1]) + attn(last, hw[levels - 1], true, contextLength, contextDim);
        for (int l = levels - 1; l >= 0; l--) {
            f += res(prev + widths[l], widths[l], hw[l]);
            f += l == 0 ? 0 : attn(widths[l], hw[l], l == levels - 1, contextLength, contextDim);
            prev = widths[l];
            if (l > 0) {
                f += conv(widths[l], widths[l - 1], 3, hw[l]);
                prev = widths[l - 1];
            }
        }
        return f + conv(widths[0], imageChannels, 3, hw[0]);
    }

    private static long conv(long in, long out, int k, long positions) {
        return 2L * in * out * k * k * positions;
    }

    private long res(long in, long out, long positions) {
        return conv(in, out, 3, positions) + conv(out, out, 3, positions) + (in == out ? 0 : conv(in, out, 1, positions))
                + 2L * timeDim * out;
    }

    private static long attn(long c, long positions, boolean self, long ctxLen, long ctxDim) {
        long f = 0;
        if (self) {
            f += 2 * positions * c * 3 * c + 4 * positions * positions * c + 2 * positions * c * c;
        }
        return f + 2 * positions * c * c + 2 * ctxLen * ctxDim * 2 * c + 4 * positions * ctxLen * c
                + 2 * positions * c * c;
    }

    /** The (1, dim/2) frequencies of the sinusoidal timestep embedding, as an engine-owned array in {@code m}. */
    static NDArray frequencies(NDManager m, int dim) {
        int half = dim / 2;
        float[] freqs = new float[half];
        for (int i = 0; i < half; i++) {
            freqs[i] = (float) Math.exp(-Math.log(10000.0) * i / half);
        }
        return Scalars.owned(m, freqs, new Shape(1, half));
    }

    /** Sinusoidal embedding of (N) timesteps into (N, 2·half) by frequencies {@code f} (1, half), as in DDPM. */
    static NDArray sinusoidal(NDArray t, NDArray f) {
        NDArray args = t.reshape(-1, 1).mul(f);
        return args.sin().concat(args.cos(), 1);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.get(0);
        NDArray t = inputs.get(1);
        NDArray ctx = inputs.get(2);
        if (x.getShape().get(1) != 2L * imageChannels + 1) {
            throw new IllegalArgumentException("UNet expects [x_t, mask, masked_image] with " + (2 * imageChannels + 1)
                    + " channels, got " + x.getShape());
        }
        NDArray temb = Layers.call(time1, ps, sinusoidal(t, freqs), training);
        temb = Layers.call(time2, ps, silu(temb), training);
        NDArray tact = silu(temb);
        NDArray h = Layers.call(inConv, ps, x, training);
        List<NDArray> skips = new ArrayList<>();
        for (int l = 0; l < widths.length; l++) {
            h = down.get(l).apply(ps, h, tact, training);
            if (downAttn.get(l) != null) {
                h = downAttn.get(l).apply(ps, h, ctx, training);
            }
            skips.add(h);
            if (l < widths.length - 1) {
                h = Layers.call(downsample.get(l), ps, h, training);
            }
        }
        h = mid1.apply(ps, h, tact, training);
        h = midAttn.apply(ps, h, ctx, training);
        h = mid2.apply(ps, h, tact, training);
        for (int k = 0; k < widths.length; k++) {
            int l = widths.length - 1 - k;
            h = up.get(k).apply(ps, NDArrays.concat(new NDList(h, skips.get(l)), 1), tact, training);
            if (upAttn.get(k) != null) {
                h = upAttn.get(k).apply(ps, h, ctx, training);
            }
            if (l > 0) {
                // Convolve at the low resolution, then repeat pixels: a quarter of the cost of the usual
                // upsample-then-convolve, and the next residual block smooths the blocks away.
                NDArray skip = skips.get(l - 1);
                h = Layers.call(upsample.get(k), ps, h, training);
                h = upsampleTo(h, skip.getShape().get(2), skip.getShape().get(3));
            }
        }
        h = Layers.call(outNorm, ps, h, training);
        return new NDList(Layers.call(outConv, ps, h, training));
    }

    /**
     * SiLU as x·σ(x). Not {@code Activation.swish(x, 1f)}: that computes σ(x·1) with a temporary scalar 1 whose
     * direct buffer dies while autograd still holds it (see {@link Scalars}) — a gradient read after a GC is garbage.
     */
    static NDArray silu(NDArray x) {
        return x.mul(Activation.sigmoid(x));
    }

    /** Nearest-neighbour ×2 up-sampling (DJL's PyTorch engine lacks transposed convolution), cropped to size. */
    static NDArray upsampleTo(NDArray h, long height, long width) {
        NDArray u = h.repeat(2, 2).repeat(3, 2);
        if (u.getShape().get(2) != height || u.getShape().get(3) != width) {
            u = u.get(":, :, :" + height + ", :" + width);
        }
        return u;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), imageChannels, s.get(2), s.get(3))};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = inputShapes[0];
        Shape ctx = inputShapes[2];
        long n = x.get(0);
        freqs = frequencies(manager, widths[0]);
        inConv.initialize(manager, dataType, x);
        time1.initialize(manager, dataType, new Shape(n, widths[0]));
        time2.initialize(manager, dataType, new Shape(n, timeDim));
        Shape temb = new Shape(n, timeDim);
        long h = x.get(2);
        long w = x.get(3);
        List<long[]> sizes = new ArrayList<>();
        int prev = widths[0];
        for (int l = 0; l < widths.length; l++) {
            sizes.add(new long[] {h, w});
            down.get(l).initialize(manager, dataType, new Shape(n, prev, h, w), temb);
            if (downAttn.get(l) != null) {
                downAttn.get(l).initialize(manager, dataType, new Shape(n, widths[l], h, w), ctx);
            }
            if (l < widths.length - 1) {
                downsample.get(l).initialize(manager, dataType, new Shape(n, widths[l], h, w));
                h = (h + 1) / 2;
                w = (w + 1) / 2;
            }
            prev = widths[l];
        }
        Shape lowest = new Shape(n, prev, h, w);
        mid1.initialize(manager, dataType, lowest, temb);
        midAttn.initialize(manager, dataType, lowest, ctx);
        mid2.initialize(manager, dataType, lowest, temb);
        for (int k = 0; k < widths.length; k++) {
            int l = widths.length - 1 - k;
            long[] hw = sizes.get(l);
            up.get(k).initialize(manager, dataType, new Shape(n, prev + widths[l], hw[0], hw[1]), temb);
            if (upAttn.get(k) != null) {
                upAttn.get(k).initialize(manager, dataType, new Shape(n, widths[l], hw[0], hw[1]), ctx);
            }
            prev = widths[l];
            if (l > 0) {
                upsample.get(k).initialize(manager, dataType, new Shape(n, widths[l], hw[0], hw[1]));
                prev = widths[l - 1];
            }
        }
        outNorm.initialize(manager, dataType, new Shape(n, widths[0], x.get(2), x.get(3)));
        outConv.initialize(manager, dataType, new Shape(n, widths[0], x.get(2), x.get(3)));
    }

    /** GN-SiLU-conv, + projected timestep, GN-SiLU-conv, plus a (1×1-projected) shortcut. */
    static final class ResBlock extends AbstractBlock {
        private final GroupNorm norm1;
        private final Block conv1;
        private final Linear timeProj;
        private final GroupNorm norm2;
        private final Block conv2;
        private final Block skip;

        ResBlock(int in, int out, int groups) {
            norm1 = addChildBlock("norm1", GroupNorm.withSilu(Math.min(groups, in)));
            conv1 = addChildBlock("conv1", Layers.conv(out, 3, 1, true));
            timeProj = addChildBlock("time", Linear.builder().setUnits(out).build());
            norm2 = addChildBlock("norm2", GroupNorm.withSilu(Math.min(groups, out)));
            conv2 = addChildBlock("conv2", Layers.conv(out, 3, 1, true));
            skip = in == out ? null : addChildBlock("skip", Layers.conv(out, 1, 1, true));
        }

        NDArray apply(ParameterStore ps, NDArray x, NDArray temb, boolean training) {
            return forward(ps, new NDList(x, temb), training).singletonOrThrow();
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                PairList<String, Object> params) {
            NDArray x = inputs.get(0);
            NDArray temb = inputs.get(1);
            NDArray h = Layers.call(conv1, ps, Layers.call(norm1, ps, x, training), training);
            NDArray tp = Layers.call(timeProj, ps, temb, training);
            h = h.add(tp.reshape(tp.getShape().get(0), tp.getShape().get(1), 1, 1));
            h = Layers.call(conv2, ps, Layers.call(norm2, ps, h, training), training);
            return new NDList(h.add(skip == null ? x : Layers.call(skip, ps, x, training)));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return conv1.getOutputShapes(new Shape[] {inputShapes[0]});
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            Shape x = inputShapes[0];
            norm1.initialize(manager, dataType, x);
            conv1.initialize(manager, dataType, x);
            Shape o = conv1.getOutputShapes(new Shape[] {x})[0];
            timeProj.initialize(manager, dataType, inputShapes[1]);
            norm2.initialize(manager, dataType, o);
            conv2.initialize(manager, dataType, o);
            if (skip != null) {
                skip.initialize(manager, dataType, x);
            }
        }
    }

    /**
     * Attention on the feature map's positions: optional self-attention, then cross-attention to the prompt context
     * (queries from the image, keys and values from the prompt), each pre-normalised and residual.
     */
    static final class SpatialAttention extends AbstractBlock {
        private final int channels;
        private final int heads;
        private final boolean self;
        private final GroupNorm selfNorm;
        private final Linear qkv;
        private final Linear selfOut;
        private final GroupNorm crossNorm;
        private final Linear q;
        private final Linear kv;
        private final Linear crossOut;

        SpatialAttention(int channels, int heads, int contextDim, boolean self, int groups) {
            if (channels % heads != 0) {
                throw new IllegalArgumentException("Attention: " + channels + " channels do not split into " + heads
                        + " heads");
            }
            this.channels = channels;
            this.heads = heads;
            this.self = self;
            selfNorm = self ? addChildBlock("selfnorm", new GroupNorm(groups)) : null;
            qkv = self ? addChildBlock("qkv", Linear.builder().setUnits(3L * channels).build()) : null;
            selfOut = self ? addChildBlock("selfout", Linear.builder().setUnits(channels).build()) : null;
            crossNorm = addChildBlock("crossnorm", new GroupNorm(groups));
            q = addChildBlock("q", Linear.builder().setUnits(channels).build());
            kv = addChildBlock("kv", Linear.builder().setUnits(2L * channels).build());
            crossOut = addChildBlock("crossout", Linear.builder().setUnits(channels).build());
        }

        NDArray apply(ParameterStore ps, NDArray x, NDArray ctx, boolean training) {
            return forward(ps, new NDList(x, ctx), training).singletonOrThrow();
        }

        /** (N, C, H, W) → (N, HW, C). */
        private static NDArray tokens(NDArray x) {
            Shape s = x.getShape();
            return x.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).transpose(0, 2, 1);
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                PairList<String, Object> params) {
            NDArray x = inputs.get(0);
            NDArray ctx = inputs.get(1);
            Shape s = x.getShape();
            NDArray h = tokens(x);
            if (self) {
                long l = h.getShape().get(1);
                NDArray t = tokens(Layers.call(selfNorm, ps, x, training));
                NDArray p = Layers.call(qkv, ps, t, training).reshape(s.get(0), l, 3, channels);
                NDArray a = Attention.multiHead(p.get(":, :, 0, :"), p.get(":, :, 1, :"), p.get(":, :, 2, :"), heads);
                h = h.add(Layers.call(selfOut, ps, a, training));
            }
            NDArray hx = h.transpose(0, 2, 1).reshape(s);
            NDArray t = tokens(Layers.call(crossNorm, ps, hx, training));
            NDArray qs = Layers.call(q, ps, t, training);
            NDArray kvs = Layers.call(kv, ps, ctx, training).reshape(ctx.getShape().get(0), ctx.getShape().get(1), 2,
                    channels);
            NDArray a = Attention.multiHead(qs, kvs.get(":, :, 0, :"), kvs.get(":, :, 1, :"), heads);
            h = h.add(Layers.call(crossOut, ps, a, training));
            return new NDList(h.transpose(0, 2, 1).reshape(s));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[] {inputShapes[0]};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            Shape x = inputShapes[0];
            Shape ctx = inputShapes[1];
            Shape tok = new Shape(x.get(0), x.get(2) * x.get(3), channels);
            if (self) {
                selfNorm.initialize(manager, dataType, x);
                qkv.initialize(manager, dataType, tok);
                selfOut.initialize(manager, dataType, tok);
            }
            crossNorm.initialize(manager, dataType, x);
            q.initialize(manager, dataType, tok);
            kv.initialize(manager, dataType, ctx);
            crossOut.initialize(manager, dataType, tok);
        }
    }
}
