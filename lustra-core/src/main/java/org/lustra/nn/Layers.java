package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;

/** Small factories and call helpers for built-in DJL blocks. */
public final class Layers {
    private Layers() {}

    public static Conv2d conv(int filters, int kernel, int stride, boolean bias) {
        return Conv2d.builder()
                .setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(kernel / 2, kernel / 2))
                .setFilters(filters)
                .optBias(bias)
                .build();
    }

    public static BatchNorm batchNorm() {
        return BatchNorm.builder().optMomentum(0.9f).build();
    }

    /** Runs a single-input, single-output block. */
    public static NDArray call(Block b, ParameterStore ps, NDArray x, boolean training) {
        return b.forward(ps, new NDList(x), training).singletonOrThrow();
    }

    /**
     * Initialises {@code net} for (1, channels, size, size) inputs in {@code manager}, every WEIGHT parameter drawn from
     * {@code weights} under engine seed {@code seed}. Set by type before {@code initialize}: DJL gives each weight its
     * type's He-normal default at construction, so a "no initializer yet" predicate set afterwards matches nothing.
     */
    public static <B extends Block> B initialize(B net, ai.djl.training.initializer.Initializer weights,
            ai.djl.ndarray.NDManager manager, int channels, int size, long seed) {
        ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed);
        net.setInitializer(weights, ai.djl.nn.Parameter.Type.WEIGHT);
        net.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, new Shape(1, channels, size, size));
        return net;
    }

    /**
     * He-normal weights (normal, variance 2/fan-in): the scale that keeps ReLU activations from shrinking through a
     * net without normalisation (the mask networks').
     */
    public static ai.djl.training.initializer.Initializer heNormal() {
        return new XavierInitializer(XavierInitializer.RandomType.GAUSSIAN, XavierInitializer.FactorType.IN, 2);
    }
}
