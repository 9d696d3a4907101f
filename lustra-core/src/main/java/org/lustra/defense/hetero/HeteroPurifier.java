package org.lustra.defense.hetero;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import org.lustra.defense.GradientMode;
import org.lustra.defense.MaskingPurifier;
import org.lustra.defense.RecomputablePurifier;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.model.Classifier;
import org.lustra.nn.Scalars;

/**
 * Heterogeneous-noise purification (Pei et al., CVPR 2025; SPEC §5): the protected classifier's attention mask M
 * decides where the input gets strong noise (t_l) and where weak (t_s); a two-stage reverse chain removes both, with
 * single-step (seed eq. 11) or multi-step RePaint resampling in stage 1. Runs unconditionally (empty prompt) on the
 * unified diffusion model.
 *
 * <p>Gradient routes: EXACT by step-wise recomputation with replayed noise through the whole chain, resampling
 * included ({@link #record}); SURROGATE, the same on a coarse DDIM grid ({@link #surrogate()}); BPDA. In every route
 * the mask is detached: computed from the input, treated as a constant.
 */
public final class HeteroPurifier implements RecomputablePurifier, MaskingPurifier {
    private final DiffusionModel model;
    private final Classifier classifier;
    private final HeteroOptions options;
    private final HeteroChain chain;

    /**
     * @param model the diffusion model
     * @param classifier the protected classifier, the source of the attention mask (not owned)
     */
    public HeteroPurifier(DiffusionModel model, Classifier classifier, HeteroOptions options) {
        this.model = model;
        this.classifier = classifier;
        this.options = options;
        this.chain = new HeteroChain(model, options);
    }

    @Override
    public String name() {
        return "hetero(" + options.describe() + ")";
    }

    @Override
    public Set<GradientMode> gradientModes() {
        return EnumSet.of(GradientMode.EXACT, GradientMode.SURROGATE, GradientMode.BPDA);
    }

    @Override
    public boolean randomized() {
        return true;
    }

    public HeteroOptions options() {
        return options;
    }

    /** UNet calls per purification (per row of the batch): the chain's denoising steps, resampling jumps included. */
    public int unetCalls() {
        return (int) chain.ops().stream().filter(op -> op.kind() == HeteroChain.Kind.DENOISE).count();
    }

    /** The attention of the protected classifier on {@code x} (detached; owned by x's manager). */
    public AttentionMask.Attention attention(NDArray x) {
        return AttentionMask.of(classifier, x, options.mask());
    }

    /** Purifies with the classifier's attention mask; differentiable in {@code x} (mask detached). */
    @Override
    public NDArray purify(NDArray x, long seed) {
        AttentionMask.Attention a = attention(x);
        NDArray out = purify(x, a.mask(), seed);
        a.mask().close();
        a.map().close();
        return out;
    }

    @Override
    public Masked purifyMasked(NDArray x, long seed) {
        AttentionMask.Attention a = attention(x);
        return new Masked(purify(x, a.mask(), seed), a.mask(), a.map());
    }

    /**
     * Purifies {@code x} (N, C, H, W in [0, 1]) with a given mask (N, 1, H, W; 1 = strong noise), e.g. for figures
     * or for attacks that hold the mask fixed. Differentiable in {@code x}; the result in [0, 1] belongs to x's
     * manager.
     */
    public NDArray purify(NDArray x, NDArray mask, long seed) {
        checkMask(x, mask);
        NDManager parent = x.getManager();
        NoiseSource noise = new NoiseSource(seed);
        Shape shape = x.getShape();
        try (NDManager scope = parent.newSubManager()) {
            scope.tempAttachAll(x, mask);
            NDArray x0 = Scalars.mul(x, 2).sub(1f);
            HeteroChain.Context c = chain.context(x0, mask, prompt(scope, shape));
            NDArray cur = chain.start(x0, mask, c.keep(), noise.normal(scope, shape));
            for (HeteroChain.Op op : chain.ops()) {
                try (NDManager step = scope.newSubManager()) {
                    cur.attach(step);
                    step.tempAttachAll(c.arrays());
                    NDArray[] z = chain.draw(op, noise, step, shape);
                    cur = step.ret(chain.apply(op, cur, c, z));
                }
            }
            return scope.ret(toUnit(cur));
        }
    }

    /**
     * x(t_l, t_s) of seed eq. 5 for input {@code x} in [0, 1], mask and noise ε given; in [-1, 1] (the diffusion
     * model's scale), owned by x's manager.
     */
    public NDArray forwardProcess(NDArray x, NDArray mask, NDArray eps) {
        checkMask(x, mask);
        NDManager parent = x.getManager();
        try (NDManager scope = parent.newSubManager()) {
            scope.tempAttachAll(x, mask, eps);
            NDArray x0 = Scalars.mul(x, 2).sub(1f);
            return scope.ret(chain.start(x0, mask, mask.neg().add(1f), eps));
        }
    }

    /** The same purifier on a coarse DDIM grid of about {@code surrogateSteps} steps from t_l (DDPM becomes η = 1). */
    @Override
    public HeteroPurifier surrogate() {
        int stride = Math.max(options.stride(), (int) Math.ceil((double) chain.tLarge() / options.surrogateSteps()));
        double eta = options.solver() == HeteroOptions.Solver.DDPM ? 1.0 : options.eta();
        return new HeteroPurifier(model, classifier, options.toBuilder().optSolver(HeteroOptions.Solver.DDIM)
                .optStride(stride).optEta(eta).build());
    }

    @Override
    public Trace record(NDArray x, long seed) {
        AttentionMask.Attention a = attention(x);
        try {
            return record(x, a.mask(), seed);
        } finally {
            a.mask().close();
            a.map().close();
        }
    }

    /** A recorded purification with a given mask (copied into the trace). */
    public Trace record(NDArray x, NDArray mask, long seed) {
        checkMask(x, mask);
        return new Trace(x, mask, seed);
    }

    /**
     * A purification that keeps, per operation, only its input iterate and its noise; {@link #pullback} recomputes one
     * operation at a time with autograd, so memory is one UNet call's activations however long the chain and however
     * many resampling steps. The output equals {@link #purify} with the same seed and mask.
     */
    public final class Trace implements RecomputablePurifier.Traced {
        private final NDManager store;
        private final HeteroChain.Context context;
        private final NDArray eps;
        private final List<NDArray> inputs = new ArrayList<>();
        private final List<NDArray[]> noises = new ArrayList<>();
        private final NDArray last;
        private final NDArray output;

        private Trace(NDArray x, NDArray mask, long seed) {
            store = x.getManager().newSubManager();
            NoiseSource noise = new NoiseSource(seed);
            Shape shape = x.getShape();
            NDArray detached = x.stopGradient();
            detached.attach(store);
            NDArray m = mask.stopGradient();
            m.attach(store);
            NDArray x0 = Scalars.mul(detached, 2).sub(1f);
            context = chain.context(x0, m, prompt(store, shape));
            eps = noise.normal(store, shape);
            NDArray cur = chain.start(x0, m, context.keep(), eps);
            for (HeteroChain.Op op : chain.ops()) {
                inputs.add(cur);
                NDArray[] z = chain.draw(op, noise, store, shape);
                noises.add(z);
                try (NDManager step = store.newSubManager()) {
                    // borrowed, so the step's temporaries die with the step and only the iterates stay in the store
                    step.tempAttachAll(cur);
                    step.tempAttachAll(context.arrays());
                    step.tempAttachAll(present(z));
                    NDArray next = chain.apply(op, cur, context, z);
                    next.attach(store);
                    cur = next;
                }
            }
            last = cur;
            output = toUnit(cur);
        }

        @Override
        public NDArray output() {
            return output;
        }

        /**
         * gᵀ ∂output/∂x, exactly, in {@code g}'s manager: the final rescaling, every operation in reverse (its input
         * iterate and, where it reads the input, x0 as leaves), then seed eq. 5; ∂x0/∂x = 2.
         */
        @Override
        public NDArray pullback(NDArray g) {
            NDManager parent = g.getManager();
            try (NDManager s = parent.newSubManager()) {
                NDArray grad = vjp(s, last, null, g, (a, b) -> toUnit(a), List.of())[0];
                NDArray gx0 = s.zeros(g.getShape());
                List<HeteroChain.Op> ops = chain.ops();
                for (int i = ops.size() - 1; i >= 0; i--) {
                    HeteroChain.Op op = ops.get(i);
                    NDArray[] z = noises.get(i);
                    List<NDArray> borrowed = new ArrayList<>(List.of(context.arrays()));
                    borrowed.addAll(List.of(present(z)));
                    NDArray[] gi = vjp(s, inputs.get(i), op.readsInput() ? context.x0() : null, grad,
                            (a, b) -> chain.apply(op, a, b == null ? context : chain.withInput(context, b), z),
                            borrowed);
                    grad.close();
                    grad = gi[0];
                    if (gi[1] != null) {
                        gx0 = accumulate(gx0, gi[1]);
                    }
                }
                NDArray[] g0 = vjp(s, context.x0(), null, grad,
                        (a, b) -> chain.start(a, context.mask(), context.keep(), eps),
                        List.of(context.mask(), context.keep(), eps));
                gx0 = accumulate(gx0, g0[0]);
                NDArray out = Scalars.mul(gx0, 2);
                out.attach(parent);
                return out;
            }
        }

        @Override
        public void close() {
            store.close();
        }
    }

    /**
     * gᵀ ∂f(a, b)/∂a and gᵀ ∂f(a, b)/∂b (the second null when {@code b} is null) at stored points, with the autograd
     * graph of one application of f; {@code borrowed} arrays are attached to the local scope while it runs, so f's
     * temporaries die with it. Results in {@code s}.
     */
    private static NDArray[] vjp(NDManager s, NDArray a, NDArray b, NDArray g,
            BiFunction<NDArray, NDArray, NDArray> f, List<NDArray> borrowed) {
        try (NDManager local = s.newSubManager()) {
            local.tempAttachAll(borrowed.toArray(new NDArray[0]));
            local.tempAttachAll(g);
            NDArray la = leaf(a, local);
            NDArray lb = b == null ? null : leaf(b, local);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(f.apply(la, lb).mul(g).sum());
            }
            NDArray ga = la.getGradient().duplicate();
            ga.attach(s);
            NDArray gb = null;
            if (lb != null) {
                gb = lb.getGradient().duplicate();
                gb.attach(s);
            }
            return new NDArray[] {ga, gb};
        }
    }

    private static NDArray leaf(NDArray at, NDManager local) {
        NDArray leaf = at.duplicate();
        leaf.attach(local);
        leaf.setRequiresGradient(true);
        return leaf;
    }

    private static NDArray accumulate(NDArray sum, NDArray term) {
        NDArray out = sum.add(term);
        sum.close();
        term.close();
        return out;
    }

    private static NDArray[] present(NDArray[] arrays) {
        return java.util.Arrays.stream(arrays).filter(java.util.Objects::nonNull).toArray(NDArray[]::new);
    }

    private NDArray prompt(NDManager m, Shape shape) {
        return model.context(m, Collections.nCopies((int) shape.get(0), ""), false);
    }

    /** [-1, 1] → [0, 1], clamped; in x's manager. */
    private static NDArray toUnit(NDArray x) {
        return Scalars.div(x.add(1f), 2).clip(0f, 1f);
    }

    private static void checkMask(NDArray x, NDArray mask) {
        Shape s = x.getShape();
        Shape m = mask.getShape();
        if (s.dimension() != 4 || m.dimension() != 4 || m.get(0) != s.get(0) || m.get(1) != 1 || m.get(2) != s.get(2)
                || m.get(3) != s.get(3)) {
            throw new IllegalArgumentException("Mask must be (N, 1, H, W) for input " + s + ", got " + m);
        }
    }
}
