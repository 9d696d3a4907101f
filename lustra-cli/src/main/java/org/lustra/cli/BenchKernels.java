package org.lustra.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import java.util.Arrays;
import java.util.Collections;
import org.lustra.diffusion.DiffusionConfig;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.nn.GroupNorm;
import org.lustra.nn.Layers;

/**
 * What {@code bench} times below the pipelines: the engine's matmul and 3×3 convolution (the ceiling), GroupNorm
 * alone, and the UNet forward and forward+backward. Every measurement runs in its own sub-manager of {@code nd} and
 * frees everything it made.
 */
final class BenchKernels {
    private BenchKernels() {}

    /** Runs of about this many FLOPs or more are timed as one call; smaller ones repeat, so a run lasts ≳ 20 ms. */
    private static final double FLOP_PER_RUN = 2e9;

    /** GFLOP/s of an (n × n)·(n × n) fp32 matrix product (2n³ FLOPs). */
    static double matmulGflops(NDManager nd, int n, BenchTiming timing) {
        double flop = 2.0 * n * n * (double) n;
        int calls = callsFor(flop);
        try (NDManager w = nd.newSubManager()) {
            NDArray a = w.randomUniform(-1, 1, new Shape(n, n));
            NDArray b = w.randomUniform(-1, 1, new Shape(n, n));
            double sec = timing.medianSeconds(w, s -> {
                s.tempAttachAll(a, b);
                for (int i = 0; i < calls; i++) {
                    a.matMul(b);
                }
            });
            return flop * calls / sec / 1e9;
        }
    }

    /** GFLOP/s of a padded 3×3 convolution c → c at size × size (2·N·C·C·9·H·W FLOPs; bias not counted). */
    static double convGflops(NDManager nd, int batch, int channels, int size, BenchTiming timing) {
        double flop = 2.0 * batch * channels * channels * 9 * size * (double) size;
        int calls = callsFor(flop);
        Conv2d conv = Layers.conv(channels, 3, 1, true);
        try (NDManager w = nd.newSubManager()) {
            Shape in = new Shape(batch, channels, size, size);
            conv.setInitializer(new NormalInitializer(0.01f), Parameter.Type.WEIGHT);
            conv.initialize(w, DataType.FLOAT32, in);
            conv.freezeParameters(true);
            NDArray x = w.randomUniform(-1, 1, in);
            ParameterStore ps = new ParameterStore(w, false);
            double sec = timing.medianSeconds(w, s -> {
                s.tempAttachAll(x);
                for (int i = 0; i < calls; i++) {
                    conv.forward(ps, new NDList(x), false);
                }
            });
            return flop * calls / sec / 1e9;
        }
    }

    /**
     * Milliseconds of one GroupNorm+SiLU call with kernel {@code k} on {@code shape} (γ, β frozen), forward only or
     * forward+backward to the input.
     */
    static double groupNormMillis(NDManager nd, GroupNorm.Kernel k, Shape shape, int groups, boolean backward,
            BenchTiming timing) {
        int calls = 5;
        GroupNorm gn = GroupNorm.withSilu(groups).useKernel(k);
        try (NDManager w = nd.newSubManager()) {
            gn.initialize(w, DataType.FLOAT32, shape);
            gn.freezeParameters(true);
            NDArray x = w.randomUniform(-1, 1, shape);
            ParameterStore ps = new ParameterStore(w, false);
            double sec = timing.medianSeconds(w, s -> {
                s.tempAttachAll(x);
                for (int i = 0; i < calls; i++) {
                    if (!backward) {
                        gn.forward(ps, new NDList(x), false);
                        continue;
                    }
                    NDArray leaf = x.duplicate();
                    leaf.setRequiresGradient(true);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(gn.forward(ps, new NDList(leaf), false).singletonOrThrow().sum());
                    }
                }
            });
            return 1000 * sec / calls;
        }
    }

    /** Seconds of one UNet forward (plain denoising, empty prompt) at {@code batch}. */
    static double unetForwardSeconds(DiffusionModel model, NDManager nd, int batch, BenchTiming timing) {
        try (NDManager w = nd.newSubManager()) {
            UnetInputs in = UnetInputs.of(model, w, batch);
            int calls = batch == 1 ? 10 : 1; // one image takes ~20 ms: time ten per run
            return timing.medianSeconds(w, s -> {
                s.tempAttachAll(in.xt(), in.mask(), in.masked(), in.ctx());
                for (int i = 0; i < calls; i++) {
                    model.predictNoise(in.xt(), in.t(), in.mask(), in.masked(), in.ctx(), false);
                }
            }) / calls;
        }
    }

    /**
     * Seconds of one UNet forward plus the backward pass to the input x_t (the vector-Jacobian product with a fixed
     * random cotangent), parameters frozen — what every attack through a diffusion purifier does per step. The
     * model's parameters must already be frozen, or weight gradients would be computed and pile up.
     */
    static double unetForwardBackwardSeconds(DiffusionModel model, NDManager nd, int batch, BenchTiming timing) {
        try (NDManager w = nd.newSubManager()) {
            UnetInputs in = UnetInputs.of(model, w, batch);
            NDArray cotangent = new NoiseSource(2).normal(w, in.xt().getShape());
            return timing.medianSeconds(w, s -> {
                s.tempAttachAll(in.xt(), in.mask(), in.masked(), in.ctx(), cotangent);
                NDArray leaf = in.xt().duplicate();
                leaf.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray eps = model.predictNoise(leaf, in.t(), in.mask(), in.masked(), in.ctx(), false);
                    gc.backward(eps.mul(cotangent).sum());
                }
                leaf.getGradient().getFloat(0, 0, 0, 0);
            });
        }
    }

    /** A plain-denoising UNet input at t = 100 with the empty prompt; arrays in {@code m}. */
    private record UnetInputs(NDArray xt, int[] t, NDArray mask, NDArray masked, NDArray ctx) {
        static UnetInputs of(DiffusionModel model, NDManager m, int batch) {
            DiffusionConfig c = model.config();
            Shape shape = new Shape(batch, c.channels(), c.size(), c.size());
            NDArray xt = new NoiseSource(1).normal(m, shape);
            int[] t = new int[batch];
            Arrays.fill(t, 100);
            return new UnetInputs(xt, t, DiffusionModel.fullMask(xt), m.zeros(shape),
                    model.context(m, Collections.nCopies(batch, ""), false));
        }
    }

    private static int callsFor(double flop) {
        return (int) Math.max(1, Math.round(FLOP_PER_RUN / flop));
    }
}
