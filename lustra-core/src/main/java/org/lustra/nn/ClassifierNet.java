package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Base of Lustra's classifier networks. Input: (N, C, H, W) in [0, 1] (scaled to [-1, 1] inside, so attacks and
 * purifiers all work in [0, 1]). Output: an {@link NDList} whose element 0 is the logits (N, K) and elements
 * 1..S the activation of each stage, (N, C_s, H_s, W_s) — the heterogeneous purifier's attention and
 * DIFFender's feature loss read them.
 */
public abstract class ClassifierNet extends AbstractBlock {
    protected final int channels;
    protected final int size;
    protected final int classes;

    /**
     * A change to a stage's activation before the next stage reads it, for defences that work inside the network
     * (feature norm clipping). It receives the stage index (0 = shallowest) and the activation in the stage-activation
     * layout (N, C_s, H_s, W_s), and must return an array of the same shape, owned by the activation's manager.
     */
    @FunctionalInterface
    public interface StageHook {
        /** Leaves every stage as it is. */
        StageHook NONE = (stage, activation) -> activation;

        NDArray apply(int stage, NDArray activation);
    }

    protected ClassifierNet(int channels, int size, int classes) {
        if (channels <= 0 || size <= 0 || classes < 2) {
            throw new IllegalArgumentException("Invalid classifier shape: channels=" + channels + " size=" + size
                    + " classes=" + classes);
        }
        this.channels = channels;
        this.size = size;
        this.classes = classes;
    }

    /** Initializer for weights that have none of their own (He-normal suits ReLU convnets). */
    public ai.djl.training.initializer.Initializer weightInitializer() {
        return new ai.djl.training.initializer.XavierInitializer(
                ai.djl.training.initializer.XavierInitializer.RandomType.GAUSSIAN,
                ai.djl.training.initializer.XavierInitializer.FactorType.IN, 2);
    }

    /** Number of stage activations after the logits. */
    public abstract int stageCount();

    public Shape inputShape(int batch) {
        return new Shape(batch, channels, size, size);
    }

    @Override
    protected final NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return forwardHooked(ps, inputs.singletonOrThrow(), training, StageHook.NONE);
    }

    /**
     * The forward pass with {@code hook} applied to every stage's activation before the next stage reads it; the
     * returned stage activations are the hooked ones. With {@link StageHook#NONE} it is the plain forward pass.
     * Owned by {@code x}'s manager.
     */
    public final NDList forwardHooked(ParameterStore ps, NDArray x, boolean training, StageHook hook) {
        if (x.getShape().dimension() != 4 || x.getShape().get(1) != channels || x.getShape().get(2) != size
                || x.getShape().get(3) != size) {
            throw new IllegalArgumentException("Classifier expects (N, " + channels + ", " + size + ", " + size
                    + ") input, got " + x.getShape());
        }
        if (x.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("Classifier expects float32 input, got " + x.getDataType());
        }
        return forwardNet(ps, Scalars.mul(x, 2).sub(1f), training, hook);
    }

    /** The network on inputs in [-1, 1]; {@code hook} is applied to each stage's activation as it is produced. */
    protected abstract NDList forwardNet(ParameterStore ps, NDArray x, boolean training, StageHook hook);

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), classes)};
    }
}
