package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.lustra.util.SafeTensors;

/**
 * AdamW (Loshchilov and Hutter, 2019) over a block's trainable parameters, with state that can be saved and
 * restored exactly (DJL's built-in optimisers keep theirs private, which makes exact resume impossible).
 * Weight decay is decoupled and applied only to tensors of rank ≥ 2 (not to norms, biases or embeddings of rank 1).
 */
public final class AdamW {
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final List<String> names = new ArrayList<>();
    private final List<NDArray> weights = new ArrayList<>();
    private final List<NDArray> firstMoments = new ArrayList<>();
    private final List<NDArray> secondMoments = new ArrayList<>();
    private final List<Float> lrScales = new ArrayList<>();
    private long step;

    /** State arrays are created in {@code manager}. */
    public AdamW(Block block, NDManager manager, float weightDecay) {
        this(block, manager, 0.9f, 0.999f, 1e-8f, weightDecay);
    }

    public AdamW(Block block, NDManager manager, float beta1, float beta2, float eps, float weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps > 0 && weightDecay >= 0)) {
            throw new IllegalArgumentException("Invalid AdamW settings: beta1=" + beta1 + " beta2=" + beta2 + " eps="
                    + eps + " weightDecay=" + weightDecay);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        for (Pair<String, Parameter> p : block.getParameters()) {
            Parameter param = p.getValue();
            if (!param.requiresGradient()) {
                continue;
            }
            NDArray w = param.getArray();
            names.add(p.getKey());
            weights.add(w);
            firstMoments.add(manager.zeros(w.getShape()));
            secondMoments.add(manager.zeros(w.getShape()));
            lrScales.add(1f);
        }
    }

    /**
     * Multiplies the learning rate of every parameter whose name contains {@code nameFragment} by {@code factor}
     * (e.g. a prompt-token table whose Adam steps would otherwise be too small to move it away from its
     * initialisation). Returns how many parameters matched; matching none is an error, not a silent no-op.
     */
    public int scaleLearningRate(String nameFragment, float factor) {
        if (!(factor > 0) || !Float.isFinite(factor)) {
            throw new IllegalArgumentException("Invalid learning-rate factor: " + factor + " (must be > 0)");
        }
        int matched = 0;
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).contains(nameFragment)) {
                lrScales.set(i, lrScales.get(i) * factor);
                matched++;
            }
        }
        if (matched == 0) {
            throw new IllegalArgumentException("No trainable parameter name contains '" + nameFragment + "'");
        }
        return matched;
    }

    public long stepCount() {
        return step;
    }

    /**
     * One update with learning rate {@code lr} from the gradients currently stored on the weights, then zeroes the
     * gradients. Temporaries live in a sub-manager of {@code scratch} and die before returning.
     */
    public void step(NDManager scratch, float lr) {
        step++;
        float c1 = (float) (1 - Math.pow(beta1, step));
        float c2 = (float) (1 - Math.pow(beta2, step));
        for (int i = 0; i < weights.size(); i++) {
            NDArray w = weights.get(i);
            NDArray m = firstMoments.get(i);
            NDArray v = secondMoments.get(i);
            float lri = lr * lrScales.get(i);
            try (NDManager s = scratch.newSubManager()) {
                s.tempAttachAll(w, m, v);
                NDArray g = w.getGradient();
                g.attach(s);
                m.muli(beta1).addi(g.mul(1 - beta1));
                v.muli(beta2).addi(g.square().muli(1 - beta2));
                if (weightDecay > 0 && w.getShape().dimension() >= 2) {
                    w.muli(1 - lri * weightDecay);
                }
                NDArray update = m.div(c1).divi(v.div(c2).sqrt().addi(eps)).muli(lri);
                w.subi(update);
                zeroGradient(w, s);
            }
        }
    }

    /** Sum of |g| over all gradients (one scalar; non-finite if any gradient is). */
    public float gradientL1(NDManager scratch) {
        try (NDManager s = scratch.newSubManager()) {
            NDArray total = null;
            for (NDArray w : weights) {
                NDArray g = w.getGradient();
                g.attach(s);
                NDArray a = g.abs().sum();
                total = total == null ? a : total.add(a);
            }
            return total == null ? 0f : total.getFloat();
        }
    }

    /** Zeroes the gradients without updating (a skipped step). */
    public void zeroGradients(NDManager scratch) {
        try (NDManager s = scratch.newSubManager()) {
            for (NDArray w : weights) {
                zeroGradient(w, s);
            }
        }
    }

    /**
     * Sets the gradient stored on {@code w} to zero. Not {@code g.muli(0)}: NaN·0 = NaN, so one non-finite gradient
     * would survive every later reset (gradients accumulate across backward passes) and poison all following steps.
     * On PyTorch this is the engine's {@code grad.zero_()}, which overwrites whatever is there.
     */
    public static void zeroGradient(NDArray w, NDManager scratch) {
        if (w instanceof PtNDArray pt) {
            JniUtils.zeroGrad(pt);
            return;
        }
        NDArray g = w.getGradient();
        g.attach(scratch);
        g.set(new float[Math.toIntExact(g.size())]);
    }

    /** Moments and step count as safetensors bytes. */
    public byte[] encodeState(NDManager scratch) {
        try (NDManager s = scratch.newSubManager()) {
            Map<String, NDArray> named = new java.util.LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) {
                named.put("m/" + names.get(i), firstMoments.get(i));
                named.put("v/" + names.get(i), secondMoments.get(i));
            }
            named.put("step", s.create(new long[] {step}));
            return SafeTensors.encode(named, s);
        }
    }

    /** Restores state written by {@link #encodeState}; names must match this block's parameters. */
    public void restoreState(InputStream in, NDManager scratch) {
        try (NDManager s = scratch.newSubManager()) {
            Map<String, NDArray> byName = SafeTensors.decode(in, s);
            for (int i = 0; i < names.size(); i++) {
                NDArray m = byName.get("m/" + names.get(i));
                NDArray v = byName.get("v/" + names.get(i));
                if (m == null || v == null) {
                    throw new IllegalStateException("Optimiser checkpoint lacks state for " + names.get(i));
                }
                m.copyTo(firstMoments.get(i));
                v.copyTo(secondMoments.get(i));
            }
            step = byName.get("step").toLongArray()[0];
        }
    }
}
