package org.lustra.defense.diffender;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.nn.PromptEncoder;
import org.lustra.nn.Scalars;

/**
 * One prompt under tuning: the encoder's whole input sequence (L, D) with rows 1..n learnable and the rest fixed.
 *
 * <p>Two starts. From words (the default): the sequence is exactly the words' token embeddings
 * {@code [SOS, words…, EOS, pad…]} and rows 1..n — the words, their EOS and the first pads — become learnable, so the
 * tuned prompt at step 0 <em>is</em> the manual prompt (epoch 0 of tuning measures the manual prompt, and tuning can
 * only move away from it on purpose). Our encoder has no causal mask and no EOS pooling (the UNet attends to the whole
 * context), so an EOS inside the learnable rows is just a starting value. Random (the ablation, CoOp's layout):
 * {@code [SOS | V1..Vn | EOS pad…]} with V ~ N(0, std²).
 */
final class LearnablePrompt {
    private final NDArray fixed;
    private final NDArray learn;
    private final int tokens;

    private LearnablePrompt(NDArray fixed, NDArray learn, int tokens) {
        this.fixed = fixed;
        this.learn = learn;
        this.tokens = tokens;
    }

    /** Starts from {@code words} (null: random, std {@code std}); arrays owned by {@code root}. */
    static LearnablePrompt start(DiffusionModel model, NDManager root, int tokens, String words, double std,
            NoiseSource rng) {
        PromptEncoder enc = model.encoder();
        int length = model.config().contextLength();
        int[] ids;
        if (words == null) {
            ids = new int[length];
            ids[0] = PromptEncoder.SOS;
            ids[tokens + 1] = PromptEncoder.EOS;
        } else {
            ids = enc.tokenize(words);
            int count = 0;
            while (ids[count + 1] != PromptEncoder.EOS) {
                count++;
            }
            if (count > tokens) {
                throw new IllegalArgumentException("Cannot start " + tokens + " learnable tokens from \"" + words
                        + "\" (" + count + " words); use at most " + tokens + " words or more tokens");
            }
        }
        try (NDManager s = root.newSubManager()) {
            NDArray seq = enc.embed(new ParameterStore(s, false), s, new int[][] {ids}, false).get(0);
            NDArray f = seq.duplicate();
            NDArray v = words == null ? Scalars.mul(rng.normal(s, new Shape(tokens, enc.dim())), std)
                    : seq.get("1:" + (tokens + 1)).duplicate();
            f.attach(root);
            v.attach(root);
            return new LearnablePrompt(f, v, tokens);
        }
    }

    /** The learnable rows (n, D). */
    NDArray learnable() {
        return learn;
    }

    /** The full sequence (L, D) in {@code m}, differentiable in the learnable rows. */
    NDArray sequence(NDManager m) {
        NDArray f = fixed.duplicate();
        f.attach(m);
        return NDArrays.concat(new NDList(f.get("0:1"), learn, f.get((tokens + 1) + ":")), 0);
    }

    /** The current full sequence as values (L·D), without gradient. */
    float[] values(NDManager root) {
        try (NDManager s = root.newSubManager()) {
            NDArray detached = learn.stopGradient();
            detached.attach(s);
            NDArray f = fixed.duplicate();
            f.attach(s);
            return NDArrays.concat(new NDList(f.get("0:1"), detached, f.get((tokens + 1) + ":")), 0).toFloatArray();
        }
    }
}
