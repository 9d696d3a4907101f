package org.lustra.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.nn.PromptEncoder;
import org.lustra.nn.UNet;
import org.lustra.util.LustraException;

/**
 * The unified text-conditioned, inpainting-capable diffusion model every diffusion purifier in Lustra shares: a
 * {@link PromptEncoder}, a {@link UNet} and the {@link NoiseSchedule}. Images passed in are in [-1, 1]. Arrays
 * returned belong to the manager of the first array argument.
 */
public final class DiffusionModel implements AutoCloseable {
    /**
     * The model every command and purifier uses when none is named. One constant, so shipping a newer model is a
     * one-line change; reports stay reproducible because their manifests name the model they ran on.
     */
    public static final String DEFAULT = "diffusion-unified";

    /**
     * The model an experiment config without a {@code "diffusion"} field means: v1, for good — configs and manifests
     * written before the field existed must keep their meaning when {@link #DEFAULT} moves on.
     */
    public static final String UNNAMED_IN_CONFIGS = "diffusion-unified";

    private final DiffusionConfig config;
    private final Net net;
    private final NoiseSchedule schedule;
    private final NDManager manager;
    /** UNet forward calls since load (a batch is one call), so a sampler's plan can be checked against its run. */
    private final AtomicLong unetCalls = new AtomicLong();

    /** Both networks in one block, so one weight file (and one hash) holds the whole model. */
    public static final class Net extends AbstractBlock {
        final PromptEncoder encoder;
        /** Called only through {@link DiffusionModel#predictNoise}, which counts the calls. */
        final UNet unet;
        private final int size;

        Net(DiffusionConfig c) {
            size = c.size();
            encoder = addChildBlock("prompt", new PromptEncoder(c.vocabulary(), c.contextLength(), c.contextDim(),
                    c.encoderDepth(), 4));
            unet = addChildBlock("unet", new UNet(c.channels(), c.widths(), c.heads(), c.contextDim(), c.groups()));
        }

        /** Forward FLOPs of the UNet per image (see {@link UNet#flopsPerImage}). */
        public long unetFlopsPerImage() {
            return unet.flopsPerImage(size, encoder.length(), encoder.dim());
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                PairList<String, Object> params) {
            throw new UnsupportedOperationException("Call the prompt encoder and the UNet separately");
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[] {inputShapes[0]};
        }

        @Override
        protected void initializeChildBlocks(NDManager m, DataType t, Shape... shapes) {
            encoder.initialize(m, t, shapes[1]);
            unet.initialize(m, t, shapes);
        }
    }

    private DiffusionModel(DiffusionConfig config, Net net, NDManager manager) {
        this.config = config;
        this.net = net;
        this.schedule = config.schedule();
        this.manager = manager;
    }

    /** A freshly initialised model whose parameters live in {@code manager} (which the model then owns). */
    public static DiffusionModel create(DiffusionConfig config, NDManager manager, long seed) {
        ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed);
        Net net = new Net(config);
        net.setInitializer(new XavierInitializer(), p -> p.getType() == Parameter.Type.WEIGHT
                && p.getInitializer() == null);
        int c = config.channels();
        net.initialize(manager, DataType.FLOAT32, new Shape(1, 2L * c + 1, config.size(), config.size()), new Shape(1),
                new Shape(1, config.contextLength(), config.contextDim()));
        return new DiffusionModel(config, net, manager);
    }

    /** Loads a shipped diffusion model (name under models/ or a directory), verifying its hash and configuration. */
    public static DiffusionModel load(String nameOrDir) {
        java.nio.file.Path dir = ModelStore.resolve(nameOrDir);
        ModelCard card = ModelStore.readCard(dir);
        if (card.diffusion() == null) {
            throw new LustraException("Model card " + dir + " has no diffusion configuration; '"
                    + nameOrDir + "' is not a diffusion model.");
        }
        DiffusionConfig config = DiffusionConfig.fromCardFields(card.diffusion());
        java.nio.file.Path weights = ModelStore.verifiedWeights(dir, card);
        NDManager m = NDManager.newBaseManager();
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(weights)) {
            DiffusionModel model = create(config, m, 0);
            ModelStore.decodeInto(model.net, in, m, weights.toString());
            model.net.freezeParameters(true);
            return model;
        } catch (java.io.IOException e) {
            m.close();
            throw new java.io.UncheckedIOException(e);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    public DiffusionConfig config() {
        return config;
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    public Net net() {
        return net;
    }

    public PromptEncoder encoder() {
        return net.encoder;
    }

    /**
     * Prompt contexts (N, L, D) for text prompts, in {@code m}. Outside training the encoder's intermediates are
     * freed at once; in training they stay in {@code m} (the backward pass needs them).
     */
    public NDArray context(NDManager m, List<String> prompts, boolean training) {
        int[][] ids = new int[prompts.size()][];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = net.encoder.tokenize(prompts.get(i));
        }
        if (training) {
            return contextFromEmbeddings(net.encoder.embed(new ParameterStore(m, false), m, ids, true), true);
        }
        try (NDManager scope = m.newSubManager()) {
            NDArray ctx = contextFromEmbeddings(net.encoder.embed(new ParameterStore(scope, false), scope, ids, false),
                    false);
            return scope.ret(ctx);
        }
    }

    /** Prompt contexts from token embeddings (N, L, D) — the prompt-tuning entry point. */
    public NDArray contextFromEmbeddings(NDArray tokenEmbeddings, boolean training) {
        return net.encoder.forward(new ParameterStore(tokenEmbeddings.getManager(), false),
                new NDList(tokenEmbeddings), training).singletonOrThrow();
    }

    /**
     * ε̂(x_t, t, mask, masked image, context). {@code mask} is (N, 1, H, W) with 1 = regenerate; for plain denoising
     * pass {@link #fullMask} and a zero masked image.
     */
    public NDArray predictNoise(NDArray xt, int[] t, NDArray mask, NDArray masked, NDArray ctx, boolean training) {
        NDArray input = NDArrays.concat(new NDList(xt, mask, masked), 1);
        NDArray ts = timesteps(xt.getManager(), t);
        unetCalls.incrementAndGet();
        return net.unet.forward(new ParameterStore(xt.getManager(), false), new NDList(input, ts, ctx), training)
                .singletonOrThrow();
    }

    /** UNet forward calls made through {@link #predictNoise} since this model was created or loaded. */
    public long unetCallsSoFar() {
        return unetCalls.get();
    }

    /**
     * The (N) float timesteps the UNet reads. A sampler's step gives every row the same t: that array is filled by the
     * engine, not copied from Java, because {@code create(float[])} allocates a direct buffer that only a garbage
     * collection frees, once per step (README, engine facts). Training's per-row timesteps still come from Java.
     */
    static NDArray timesteps(NDManager m, int[] t) {
        boolean same = true;
        for (int v : t) {
            same &= v == t[0];
        }
        if (same && t.length > 0) {
            return m.full(new Shape(t.length), (float) t[0]);
        }
        float[] tf = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            tf[i] = t[i];
        }
        return m.create(tf);
    }

    /**
     * Classifier-free guidance with the conditional and unconditional rows stacked into <em>one</em> UNet call:
     * ε̂ = ε_u + g (ε_c − ε_u).
     */
    public NDArray predictNoiseGuided(NDArray xt, int[] t, NDArray mask, NDArray masked, NDArray ctxCond,
            NDArray ctxUncond, double guidance) {
        NDList parts = predictNoiseUnder(xt, t, mask, masked, ctxCond, ctxUncond);
        return NoiseSchedule.guide(parts.get(0), parts.get(1), guidance);
    }

    /**
     * ε̂ of the same inputs under two contexts, {ε̂(ctxA), ε̂(ctxB)}, from <em>one</em> UNet call on the stacked rows
     * (inference; owned by xt's manager).
     */
    public NDList predictNoiseUnder(NDArray xt, int[] t, NDArray mask, NDArray masked, NDArray ctxA, NDArray ctxB) {
        return predictNoiseUnder(xt, t, stackTwice(mask, masked, ctxA, ctxB));
    }

    /**
     * The inputs of {@link #predictNoiseUnder} that a sampling chain holds fixed, stacked for its one UNet call:
     * {mask; mask}, {masked; masked}, {ctxA; ctxB}. A chain stacks them once instead of at every step. In mask's
     * manager.
     */
    public static NDList stackTwice(NDArray mask, NDArray masked, NDArray ctxA, NDArray ctxB) {
        return new NDList(mask.concat(mask, 0), masked.concat(masked, 0), ctxA.concat(ctxB, 0));
    }

    /** As {@link #predictNoiseUnder}, with the fixed inputs already stacked by {@link #stackTwice}. */
    public NDList predictNoiseUnder(NDArray xt, int[] t, NDList stacked) {
        int n = t.length;
        int[] t2 = new int[2 * n];
        System.arraycopy(t, 0, t2, 0, n);
        System.arraycopy(t, 0, t2, n, n);
        NDArray eps = predictNoise(xt.concat(xt, 0), t2, stacked.get(0), stacked.get(1), stacked.get(2), false);
        return eps.split(2, 0);
    }

    /** All-ones mask (N, 1, H, W) for plain denoising, in {@code like}'s manager. */
    public static NDArray fullMask(NDArray like) {
        Shape s = like.getShape();
        return like.getManager().ones(new Shape(s.get(0), 1, s.get(2), s.get(3)));
    }

    @Override
    public void close() {
        manager.close();
    }
}
