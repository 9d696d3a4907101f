package org.lustra.defense.diffender;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import org.lustra.diffusion.DiffusionModel;

/**
 * A prompt for DIFFender's two steps: either words of the diffusion model's vocabulary (the empty prompt, or a manual
 * prompt such as "patch") or learned token embeddings laid out as the prompt encoder's whole input sequence
 * {@code [SOS | V1..Vn | EOS pad…]}, shape (L, D) — what few-shot prompt tuning optimises (SPEC §4.4).
 */
public final class Prompt {
    private final String text;
    private final float[] embeddings;
    private final Shape shape;
    private final NDArray live;

    private Prompt(String text, float[] embeddings, Shape shape) {
        this(text, embeddings, shape, null);
    }

    private Prompt(String text, float[] embeddings, Shape shape, NDArray live) {
        this.text = text;
        this.embeddings = embeddings;
        this.shape = shape;
        this.live = live;
    }

    /**
     * Token embeddings (L, D) being optimised: contexts built from it keep the autograd graph back to it (prompt
     * tuning). Not for purification outside tuning.
     */
    static Prompt live(NDArray tokenEmbeddings) {
        return new Prompt(null, null, tokenEmbeddings.getShape(), tokenEmbeddings);
    }

    /** Words of the model's vocabulary; "" is the unconditional prompt. */
    public static Prompt text(String words) {
        if (words == null) {
            throw new IllegalArgumentException("Prompt text is null; use \"\" for the empty prompt");
        }
        return new Prompt(words.trim(), null, null);
    }

    public static Prompt empty() {
        return text("");
    }

    /** Learned token embeddings (L·D values, row-major) for a model with context length L and width D. */
    public static Prompt learned(float[] embeddings, int length, int dim) {
        if (embeddings.length != (long) length * dim) {
            throw new IllegalArgumentException("Learned prompt has " + embeddings.length + " values, expected "
                    + length + " × " + dim + " = " + (long) length * dim);
        }
        return new Prompt(null, embeddings.clone(), new Shape(length, dim));
    }

    public boolean isLearned() {
        return embeddings != null || live != null;
    }

    public boolean isEmpty() {
        return text != null && text.isEmpty();
    }

    /** The words, or null for a learned prompt. */
    public String words() {
        return text;
    }

    /** A copy of the learned embeddings, or null for a text prompt. */
    public float[] embeddings() {
        return embeddings == null ? null : embeddings.clone();
    }

    /** Encoder contexts (n, L, D) for n rows, owned by {@code m}. */
    public NDArray context(DiffusionModel model, NDManager m, int n) {
        if (text != null) {
            return model.context(m, Collections.nCopies(n, text), false);
        }
        if (live != null) {
            return model.contextFromEmbeddings(live.expandDims(0).repeat(0, n), false);
        }
        if (shape.get(0) != model.config().contextLength() || shape.get(1) != model.encoder().dim()) {
            throw new IllegalArgumentException("Learned prompt of shape " + shape + " does not fit this model's "
                    + "prompt encoder (" + model.config().contextLength() + " × " + model.encoder().dim() + ")");
        }
        try (NDManager scope = m.newSubManager()) {
            NDArray one = scope.create(embeddings, new Shape(1, shape.get(0), shape.get(1)));
            NDArray rows = one.repeat(0, n);
            return scope.ret(model.contextFromEmbeddings(rows, false));
        }
    }

    @Override
    public String toString() {
        return text != null ? (text.isEmpty() ? "∅" : "\"" + text + "\"") : "learned" + shape;
    }
}
