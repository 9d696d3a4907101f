package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.Arrays;
import java.util.Locale;

/**
 * Group normalisation (Wu and He, 2018), which DJL lacks, optionally fused with the SiLU that follows it in every
 * UNet block. Behaves the same in training and inference. Three kernels compute the same function (tested to 1e-5 in
 * values and gradients); the parameters are the same, so weights saved with one load into any other:
 * <ul>
 *   <li>{@link Kernel#NATIVE}: PyTorch's {@code group_norm} (+ {@code silu}) through {@link NativeGroupNorm}, the
 *       fastest (≈ 3.5× the batch-norm trick forward+backward);</li>
 *   <li>{@link Kernel#LAYER_NORM}: layer normalisation over an (N, G, C/G·H·W) view, then the affine — the fallback
 *       when the TorchScript module cannot be loaded;</li>
 *   <li>{@link Kernel#BATCH_NORM}: the first implementation — (1, N·G, −1) through batch normalisation in training
 *       mode; kept so {@code bench} can measure old against new in one run.</li>
 * </ul>
 * The kernel is chosen per JVM by {@code -Dlustra.groupnorm=native|layernorm|batchnorm} (default native).
 */
public final class GroupNorm extends AbstractBlock {
    /** How the normalisation is computed; see the class comment. */
    public enum Kernel {
        NATIVE, LAYER_NORM, BATCH_NORM;

        /** The JVM-wide choice: the system property, else NATIVE when it loads, else LAYER_NORM. */
        public static Kernel configured() {
            String p = System.getProperty("lustra.groupnorm", "native").trim().toLowerCase(Locale.ROOT);
            Kernel k = switch (p) {
                case "native" -> NATIVE;
                case "layernorm", "layer_norm" -> LAYER_NORM;
                case "batchnorm", "batch_norm" -> BATCH_NORM;
                default -> throw new IllegalArgumentException("Invalid -Dlustra.groupnorm=" + p
                        + ": use native, layernorm or batchnorm");
            };
            return k == NATIVE && NativeGroupNorm.get() == null ? LAYER_NORM : k;
        }
    }

    private static volatile Kernel defaultKernel;

    private final int groups;
    private final float eps;
    private final boolean silu;
    private final Parameter gamma;
    private final Parameter beta;
    private Kernel kernel;
    private int channels;

    public GroupNorm(int groups) {
        this(groups, 1e-5f, false);
    }

    /**
     * @param silu whether SiLU follows the normalisation (fused into one native call); the output is then
     *             {@code silu(groupnorm(x))}
     */
    public GroupNorm(int groups, float eps, boolean silu) {
        if (groups < 1) {
            throw new IllegalArgumentException("Invalid group count: " + groups);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("Invalid GroupNorm eps: " + eps + " (must be > 0)");
        }
        this.groups = groups;
        this.eps = eps;
        this.silu = silu;
        gamma = addParameter(Parameter.builder().setName("gamma").setType(Parameter.Type.GAMMA).build());
        beta = addParameter(Parameter.builder().setName("beta").setType(Parameter.Type.BETA).build());
    }

    /** A GroupNorm followed by SiLU. */
    public static GroupNorm withSilu(int groups) {
        return new GroupNorm(groups, 1e-5f, true);
    }

    /** Use {@code k} for this block from now on (tests and {@code bench} compare kernels on one model). */
    public GroupNorm useKernel(Kernel k) {
        if (k == Kernel.NATIVE && NativeGroupNorm.get() == null) {
            throw new IllegalStateException("The native group_norm kernel could not be loaded: "
                    + NativeGroupNorm.failure());
        }
        kernel = k;
        return this;
    }

    /**
     * Switches every GroupNorm in the block tree under {@code root} (the root included) to kernel {@code k}, so one
     * built network can be measured or checked with each kernel in turn. Returns how many blocks were switched.
     *
     * @throws IllegalStateException if {@code k} is {@link Kernel#NATIVE} and the native kernel cannot be loaded
     */
    public static int useKernelEverywhere(Block root, Kernel k) {
        int switched = 0;
        if (root instanceof GroupNorm g) {
            g.useKernel(k);
            switched++;
        }
        for (Block child : root.getChildren().values()) {
            switched += useKernelEverywhere(child, k);
        }
        return switched;
    }

    /** The kernel this block runs with. */
    public Kernel kernel() {
        if (kernel == null) {
            if (defaultKernel == null) {
                defaultKernel = Kernel.configured();
            }
            kernel = defaultKernel;
        }
        return kernel;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDArray g = ps.getValue(gamma, x.getDevice(), training);
        NDArray b = ps.getValue(beta, x.getDevice(), training);
        NDArray y = switch (kernel()) {
            case NATIVE -> NativeGroupNorm.get().apply(x, g, b, groups, eps, silu);
            case LAYER_NORM -> activate(affine(layerNorm(x), g, b));
            case BATCH_NORM -> activate(affine(batchNorm(x), g, b));
        };
        return new NDList(y);
    }

    private NDArray activate(NDArray y) {
        // silu(y) = y·σ(y); Activation.swish(y, 1) would add a y·1 pass and a scalar the backward pass reads
        return silu ? y.mul(Activation.sigmoid(y)) : y;
    }

    private NDArray layerNorm(NDArray x) {
        Shape shape = x.getShape();
        NDArray view = x.reshape(shape.get(0), groups, -1);
        long per = view.getShape().get(2);
        NDManager m = x.getManager();
        Shape norm = new Shape(per);
        return LayerNorm.layerNorm(view, norm, m.ones(norm), m.zeros(norm), eps).singletonOrThrow().reshape(shape);
    }

    private NDArray batchNorm(NDArray x) {
        Shape shape = x.getShape();
        long n = shape.get(0);
        NDManager m = x.getManager();
        NDArray flat = x.reshape(1, n * groups, -1);
        // Throw-away running statistics and unit affine: the engine's batchNorm needs all four arrays (null → NPE),
        // and in training mode it normalises by the batch (= group) statistics, never reading the running ones.
        Shape groupShape = new Shape(n * groups);
        return BatchNorm.batchNorm(flat, m.zeros(groupShape), m.ones(groupShape), m.ones(groupShape),
                m.zeros(groupShape), 1, 0.1f, eps, true).singletonOrThrow().reshape(shape);
    }

    private NDArray affine(NDArray normed, NDArray gammaValue, NDArray betaValue) {
        Shape shape = normed.getShape();
        long[] dims = new long[shape.dimension()];
        Arrays.fill(dims, 1);
        dims[1] = channels;
        Shape a = new Shape(dims);
        NDManager m = normed.getManager();
        // A reshape of a parameter belongs to the parameter's manager: move the views to the input's manager, or
        // every call would leave two arrays behind in the model's manager (caught by DiffPureTest).
        NDArray g = gammaValue.reshape(a);
        NDArray b = betaValue.reshape(a);
        g.attach(m);
        b.attach(m);
        return normed.mul(g).add(b);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    public void prepare(Shape[] inputShapes) {
        channels = (int) inputShapes[0].get(1);
        if (channels % groups != 0) {
            throw new IllegalArgumentException("GroupNorm: " + channels + " channels do not divide into " + groups
                    + " groups");
        }
        gamma.setShape(new Shape(channels));
        beta.setShape(new Shape(channels));
    }
}
