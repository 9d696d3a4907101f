package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.UnaryOperator;

/**
 * Input gradients for code that may run while an attack's {@code GradientCollector} is open. DJL allows one collector
 * per JVM at a time (a static flag; a second one throws), yet a defence that reads its classifier's gradient (the
 * saliency map of Digital Watermarking) is called inside the attack's collector. PyTorch's own backward has no such
 * limit: it fills the gradients of the leaves of the graph it is given and nothing else, so a graph grown from a fresh
 * detached leaf leaves the attacker's gradients untouched (DJL-NOTES: {@code JniUtils.backward} per thread works).
 */
public final class Autograd {
    private Autograd() {}

    /**
     * d(sum f(v))/dv at v = {@code at}, computed on a detached copy; no gradient flows back to {@code at}. Works with
     * or without an open {@code GradientCollector}, and restores the thread's grad mode. Owned by {@code at}'s manager.
     */
    public static NDArray inputGradient(NDArray at, UnaryOperator<NDArray> f) {
        ConvolutionCheck.require();
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try (NDManager local = at.getManager().newSubManager()) {
            NDArray detached = at.stopGradient();
            detached.attach(local);
            NDArray leaf = detached.duplicate();
            leaf.setRequiresGradient(true);
            NDArray y = f.apply(leaf).sum();
            NDArray ones = local.ones(y.getShape(), y.getDataType());
            JniUtils.backward((PtNDArray) y, (PtNDArray) ones, false, false);
            NDArray g = leaf.getGradient().duplicate();
            g.attach(at.getManager());
            return g;
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }
}
