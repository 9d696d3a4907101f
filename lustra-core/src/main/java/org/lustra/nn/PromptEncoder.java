package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.lustra.util.LustraException;

/**
 * Lustra's stand-in for CLIP's text encoder (SPEC §3): a word-level vocabulary, token + position embeddings, a small
 * transformer, and as output the whole fixed-length context {@code [SOS, tokens…, EOS, pad…]} (N, L, D).
 *
 * <p>The forward pass takes <em>token embeddings</em> (N, L, D), not ids, so any span can be replaced by continuous
 * learnable vectors (CoOp-style prompt tuning, {@code [SOS | V1..V16 | EOS pad]}); {@link #embed} turns ids into
 * embeddings through a one-hot product, which keeps the table differentiable.
 */
public final class PromptEncoder extends AbstractBlock {
    public static final int PAD = 0;
    public static final int SOS = 1;
    public static final int EOS = 2;

    private final List<String> vocabulary;
    private final int length;
    private final int dim;
    private final Parameter tokens;
    private final Parameter positions;
    private final List<VisionTransformer.TransformerBlock> layers = new ArrayList<>();
    private final LayerNorm norm;

    /**
     * @param vocabulary words in id order; ids 0–2 must be {@code <pad>}, {@code <sos>}, {@code <eos>}
     * @param length context length L (tokens + SOS + EOS + padding)
     */
    public PromptEncoder(List<String> vocabulary, int length, int dim, int depth, int heads) {
        if (vocabulary.size() < 4 || !vocabulary.get(PAD).equals("<pad>") || !vocabulary.get(SOS).equals("<sos>")
                || !vocabulary.get(EOS).equals("<eos>")) {
            throw new IllegalArgumentException("Invalid vocabulary: must start with <pad>, <sos>, <eos> and hold words");
        }
        if (length < 3 || dim < 1 || depth < 0) {
            throw new IllegalArgumentException("Invalid prompt encoder: length " + length + ", dim " + dim + ", depth "
                    + depth);
        }
        this.vocabulary = List.copyOf(vocabulary);
        this.length = length;
        this.dim = dim;
        tokens = addParameter(Parameter.builder().setName("tokens").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(vocabulary.size(), dim)).optInitializer(new NormalInitializer(0.02f)).build());
        positions = addParameter(Parameter.builder().setName("positions").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(1, length, dim)).optInitializer(new NormalInitializer(0.01f)).build());
        for (int i = 0; i < depth; i++) {
            layers.add(addChildBlock("layer" + i, new VisionTransformer.TransformerBlock(dim, heads, 2 * dim)));
        }
        norm = addChildBlock("norm", LayerNorm.builder().axis(2).build());
    }

    public List<String> vocabulary() {
        return vocabulary;
    }

    public int length() {
        return length;
    }

    public int dim() {
        return dim;
    }

    /** Word ids of a prompt laid out as {@code [SOS, words…, EOS, pad…]}; the empty prompt is {@code [SOS, EOS, pad…]}. */
    public int[] tokenize(String prompt) {
        String[] words = prompt.trim().toLowerCase(Locale.ROOT).replaceAll("[.,!?;:\"]", " ").trim().split("\\s+");
        int[] ids = new int[length];
        ids[0] = SOS;
        int k = 1;
        for (String w : words) {
            if (w.isEmpty()) {
                continue;
            }
            int id = vocabulary.indexOf(w);
            if (id < 3) {
                throw new LustraException("Unknown word '" + w + "' in prompt \"" + prompt + "\"; the vocabulary is "
                        + vocabulary.subList(3, vocabulary.size()) + ".");
            }
            if (k >= length - 1) {
                throw new LustraException("Prompt \"" + prompt + "\" has more than " + (length - 2) + " words.");
            }
            ids[k++] = id;
        }
        ids[k] = EOS;
        return ids;
    }

    /** Token embeddings (N, L, D) of id rows (N × L), in {@code manager}; differentiable w.r.t. the table. */
    public NDArray embed(ParameterStore ps, NDManager manager, int[][] ids, boolean training) {
        int n = ids.length;
        int v = vocabulary.size();
        float[] onehot = new float[n * length * v];
        for (int i = 0; i < n; i++) {
            if (ids[i].length != length) {
                throw new IllegalArgumentException("Token row of length " + ids[i].length + ", expected " + length);
            }
            for (int j = 0; j < length; j++) {
                onehot[(i * length + j) * v + ids[i][j]] = 1f;
            }
        }
        NDArray table = ps.getValue(tokens, manager.getDevice(), training);
        // engine-owned one-hot: matMul saves it for the table's gradient (see Scalars)
        return Scalars.owned(manager, onehot, new Shape((long) n * length, v)).matMul(table).reshape(n, length, dim);
    }

    /** The embedding table row of one token id, (D), in {@code manager}'s scope via the table's manager. */
    public NDArray tokenEmbedding(ParameterStore ps, NDManager manager, int id, boolean training) {
        return embed(ps, manager, new int[][] {padRow(id)}, training).get(0).get(0);
    }

    private int[] padRow(int first) {
        int[] row = new int[length];
        row[0] = first;
        return row;
    }

    /** Input: token embeddings (N, L, D). Output: the context (N, L, D). */
    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray e = inputs.singletonOrThrow();
        if (e.getShape().dimension() != 3 || e.getShape().get(1) != length || e.getShape().get(2) != dim) {
            throw new IllegalArgumentException("Prompt encoder expects token embeddings (N, " + length + ", " + dim
                    + "), got " + e.getShape());
        }
        NDArray h = e.add(ps.getValue(positions, e.getDevice(), training));
        for (VisionTransformer.TransformerBlock b : layers) {
            h = Layers.call(b, ps, h, training);
        }
        return new NDList(Layers.call(norm, ps, h, training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape s = new Shape(inputShapes[0].get(0), length, dim);
        for (VisionTransformer.TransformerBlock b : layers) {
            b.initialize(manager, dataType, s);
        }
        norm.initialize(manager, dataType, s);
    }
}
