package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * A ViT masked autoencoder (He et al., 2022) on pixel patches: a linear patch embedding with learned positions, an
 * encoder that sees only the visible patches, then a narrower decoder that sees every position — the encoded visible
 * tokens put back in place and a learned mask token at the hidden ones — and predicts each patch's pixels. With no
 * mask (the purifier at test time) every patch is visible and the decoder sees no mask token.
 *
 * <p>Images come in and go out in [0, 1]; inside, pixels are mapped to [-1, 1]. The output is not clamped, so the
 * training loss sees the raw prediction.
 */
public final class MaskedAutoencoder extends AbstractBlock {

    /**
     * Sizes; validated.
     *
     * @param channels image channels C
     * @param size image height = width (divisible by the patch)
     * @param patch patch side p (a token holds C·p² pixels)
     * @param dim encoder token width
     * @param depth encoder transformer blocks
     * @param heads encoder attention heads
     * @param mlp encoder MLP width
     * @param decoderDim decoder token width
     * @param decoderDepth decoder transformer blocks
     * @param decoderHeads decoder attention heads
     */
    public record Config(int channels, int size, int patch, int dim, int depth, int heads, int mlp, int decoderDim,
            int decoderDepth, int decoderHeads) {
        public Config {
            if (channels < 1 || patch < 1 || size < patch || size % patch != 0 || depth < 1 || decoderDepth < 1
                    || heads < 1 || dim % heads != 0 || decoderHeads < 1 || decoderDim % decoderHeads != 0
                    || mlp < 1) {
                throw new IllegalArgumentException("Invalid masked autoencoder: " + channels + "x" + size + "x" + size
                        + ", patch " + patch + ", encoder " + dim + "/" + depth + "/" + heads + " heads, decoder "
                        + decoderDim + "/" + decoderDepth + "/" + decoderHeads + " heads (size must divide by the "
                        + "patch, widths by their heads, depths >= 1)");
            }
        }

        /** Patches per image, L. */
        public int patches() {
            return (size / patch) * (size / patch);
        }
    }

    /**
     * Images per forward slice. An attention score tensor above glibc's mmap threshold (at most 32 MB) is mapped
     * fresh and page-faulted on every op: measured at width 128, 4 heads, 196 tokens, one thread, a batch of 64 took
     * 4.4 s for training forward + backward and 0.8–4.7 s for inference in one slice, 0.8 s and 0.5 s in slices of 8.
     */
    static final int CHUNK = 8;

    private final Config config;
    private final Linear embed;
    private final Parameter position;
    private final List<VisionTransformer.TransformerBlock> encoder = new ArrayList<>();
    private final LayerNorm encoderNorm;
    private final Linear toDecoder;
    private final Parameter maskToken;
    private final Parameter decoderPosition;
    private final List<VisionTransformer.TransformerBlock> decoder = new ArrayList<>();
    private final LayerNorm decoderNorm;
    private final Linear toPixels;

    public MaskedAutoencoder(Config c) {
        this.config = c;
        embed = addChildBlock("embed", Linear.builder().setUnits(c.dim()).build());
        position = addParameter(normal("position", new Shape(1, c.patches(), c.dim())));
        for (int i = 0; i < c.depth(); i++) {
            encoder.add(addChildBlock("encoder" + i, new VisionTransformer.TransformerBlock(c.dim(), c.heads(),
                    c.mlp())));
        }
        encoderNorm = addChildBlock("encoder_norm", LayerNorm.builder().axis(2).build());
        toDecoder = addChildBlock("to_decoder", Linear.builder().setUnits(c.decoderDim()).build());
        maskToken = addParameter(normal("mask_token", new Shape(1, 1, c.decoderDim())));
        decoderPosition = addParameter(normal("decoder_position", new Shape(1, c.patches(), c.decoderDim())));
        for (int i = 0; i < c.decoderDepth(); i++) {
            decoder.add(addChildBlock("decoder" + i, new VisionTransformer.TransformerBlock(c.decoderDim(),
                    c.decoderHeads(), 2 * c.decoderDim())));
        }
        decoderNorm = addChildBlock("decoder_norm", LayerNorm.builder().axis(2).build());
        toPixels = addChildBlock("to_pixels", Linear.builder()
                .setUnits((long) c.channels() * c.patch() * c.patch()).build());
    }

    private static Parameter normal(String name, Shape shape) {
        return Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).optShape(shape)
                .optInitializer(new NormalInitializer(0.02f)).build();
    }

    public Config config() {
        return config;
    }

    /**
     * (N, C, H, W) → (N, L, C·p²): patches row by row, each patch's values channel-major then row-major. Owned by x's
     * manager.
     */
    public static NDArray patchify(NDArray x, int p) {
        Shape s = x.getShape();
        long n = s.get(0);
        long c = s.get(1);
        long gh = s.get(2) / p;
        long gw = s.get(3) / p;
        if (s.get(2) % p != 0 || s.get(3) % p != 0) {
            throw new IllegalArgumentException("Image " + s + " does not split into " + p + "x" + p + " patches");
        }
        return x.reshape(n, c, gh, p, gw, p).transpose(0, 2, 4, 1, 3, 5).reshape(n, gh * gw, c * p * p);
    }

    /** The inverse of {@link #patchify} for C×H×W images; owned by tokens' manager. */
    public static NDArray unpatchify(NDArray tokens, int c, int h, int w, int p) {
        long n = tokens.getShape().get(0);
        return tokens.reshape(n, h / p, w / p, c, p, p).transpose(0, 3, 1, 4, 2, 5).reshape(n, c, h, w);
    }

    /**
     * The reconstruction (N, C, H, W) of x in [0, 1] (unclamped) with the patches of {@code mask} hidden from the
     * encoder; {@code mask} null hides nothing. Owned by x's manager.
     */
    public NDArray reconstruct(ParameterStore ps, NDArray x, PatchMask mask, boolean training) {
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(1) != config.channels() || s.get(2) != config.size()
                || s.get(3) != config.size() || (mask != null && mask.images() != s.get(0))) {
            throw new IllegalArgumentException("Masked autoencoder expects (N, " + config.channels() + ", "
                    + config.size() + ", " + config.size() + ") and a mask of N images, got " + s
                    + (mask == null ? "" : " and " + mask));
        }
        int n = Math.toIntExact(s.get(0));
        if (n <= CHUNK) {
            return reconstructChunk(ps, x, mask, training);
        }
        NDList parts = new NDList();
        for (int from = 0; from < n; from += CHUNK) {
            int to = Math.min(n, from + CHUNK);
            parts.add(reconstructChunk(ps, x.get(from + ":" + to), mask == null ? null : mask.rows(from, to),
                    training));
        }
        return NDArrays.concat(parts, 0);
    }

    private NDArray reconstructChunk(ParameterStore ps, NDArray x, PatchMask mask, boolean training) {
        int p = config.patch();
        NDArray tokens = Layers.call(embed, ps, patchify(Scalars.mul(x, 2).sub(1f), p), training);
        tokens = tokens.add(ps.getValue(position, x.getDevice(), training));
        boolean hides = mask != null && mask.maskedCount() > 0;
        NDArray select = hides ? mask.selection(x.getManager()) : null;
        if (hides) {
            tokens = select.matMul(tokens);
        }
        for (VisionTransformer.TransformerBlock b : encoder) {
            tokens = Layers.call(b, ps, tokens, training);
        }
        NDArray d = Layers.call(toDecoder, ps, Layers.call(encoderNorm, ps, tokens, training), training);
        if (hides) {
            NDArray placed = select.transpose(0, 2, 1).matMul(d);
            d = placed.add(mask.tokenMask(x.getManager()).mul(ps.getValue(maskToken, x.getDevice(), training)));
        }
        d = d.add(ps.getValue(decoderPosition, x.getDevice(), training));
        for (VisionTransformer.TransformerBlock b : decoder) {
            d = Layers.call(b, ps, d, training);
        }
        NDArray pixels = Layers.call(toPixels, ps, Layers.call(decoderNorm, ps, d, training), training);
        NDArray y = unpatchify(pixels, config.channels(), config.size(), config.size(), p);
        return Scalars.mul(y.add(1f), 0.5);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
            PairList<String, Object> params) {
        return new NDList(reconstruct(ps, inputs.singletonOrThrow(), null, training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        long n = inputShapes[0].get(0);
        int c = config.channels();
        int p = config.patch();
        long l = config.patches();
        embed.initialize(manager, dataType, new Shape(n, l, (long) c * p * p));
        Shape enc = new Shape(n, l, config.dim());
        for (VisionTransformer.TransformerBlock b : encoder) {
            b.initialize(manager, dataType, enc);
        }
        encoderNorm.initialize(manager, dataType, enc);
        toDecoder.initialize(manager, dataType, enc);
        Shape dec = new Shape(n, l, config.decoderDim());
        for (VisionTransformer.TransformerBlock b : decoder) {
            b.initialize(manager, dataType, dec);
        }
        decoderNorm.initialize(manager, dataType, dec);
        toPixels.initialize(manager, dataType, dec);
    }
}
