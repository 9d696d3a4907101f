package org.lustra.defense.diffpure;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.lustra.defense.GradientMode;
import org.lustra.defense.RecomputablePurifier;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.diffusion.Sampler;
import org.lustra.nn.Scalars;

/**
 * DiffPure (Nie et al., 2022): diffuse the input to a small noise level t* with the forward process, then run the
 * reverse process back to a clean image, unconditionally (empty prompt, plain-denoising mask). The reverse chain is
 * DDPM ancestral (every step from t*·T down to 0) or a DDIM grid with a configurable number of steps.
 */
public final class DiffPure implements RecomputablePurifier {

    /**
     * @param tStar noise level as a fraction of T (default 0.1)
     * @param sampler reverse-chain settings; guidance is ignored (unconditional)
     */
    public record Options(double tStar, Sampler.Options sampler) {
        public Options {
            if (!(tStar > 0 && tStar <= 1)) {
                throw new IllegalArgumentException("Invalid t*: " + tStar + " (0 < t* ≤ 1)");
            }
        }

        /** DiffPure's default: t* = 0.1 with the full DDPM ancestral chain. */
        public static Options ddpm(double tStar) {
            return new Options(tStar, new Sampler.Options(1, true, 0, 1));
        }

        public static Options ddim(double tStar, int steps) {
            return new Options(tStar, new Sampler.Options(steps, false, 0, 1));
        }
    }

    private final DiffusionModel model;
    private final Options options;

    public DiffPure(DiffusionModel model, Options options) {
        this.model = model;
        this.options = options;
    }

    @Override
    public String name() {
        Sampler.Options s = options.sampler();
        return String.format(java.util.Locale.ROOT, "diffpure(t*=%.2f, %s)", options.tStar(),
                s.ddpm() ? "ddpm" : "ddim" + s.steps() + (s.eta() > 0 ? " eta=" + s.eta() : ""));
    }

    @Override
    public Set<GradientMode> gradientModes() {
        return EnumSet.of(GradientMode.EXACT, GradientMode.SURROGATE, GradientMode.BPDA);
    }

    @Override
    public boolean randomized() {
        return true;
    }

    public Options options() {
        return options;
    }

    /** The same purifier on a coarse DDIM grid: what a SURROGATE-mode attack differentiates (the seeds' practice). */
    public DiffPure surrogate(int steps) {
        return new DiffPure(model, Options.ddim(options.tStar(), steps));
    }

    /** The default surrogate: DDIM with 5 steps from t*. */
    @Override
    public DiffPure surrogate() {
        return surrogate(5);
    }

    @Override
    public Trace record(NDArray x, long seed) {
        return trace(x, seed);
    }

    /**
     * Purifies {@code x} without building an autograd graph, keeping every step's input and noise, so that
     * {@link Trace#pullback} can return the exact input gradient by recomputing one step at a time: memory is one
     * step's activations instead of the whole chain's. The output equals {@link #purify} with the same seed.
     */
    public Trace trace(NDArray x, long seed) {
        return new Trace(x, seed);
    }

    /** A recorded purification; close it to free the stored steps. */
    public final class Trace implements RecomputablePurifier.Traced {
        private final NDManager store;
        private final int n;
        private final int tStar;
        private final int[] grid;
        private final java.util.List<NDArray> inputs = new java.util.ArrayList<>();
        private final java.util.List<NDArray> noises = new java.util.ArrayList<>();
        private final NDArray last;
        private final NDArray output;

        private Trace(NDArray x, long seed) {
            store = x.getManager().newSubManager();
            NoiseSource noise = new NoiseSource(seed);
            tStar = model.schedule().timestepForFraction(options.tStar());
            n = (int) x.getShape().get(0);
            grid = Sampler.reverseGrid(options.sampler(), tStar);
            NDArray detached = x.stopGradient();
            detached.attach(store);
            NDArray x0 = Scalars.mul(detached, 2).sub(1f);
            NDArray cur = model.schedule().addNoise(x0, tStar, noise.normal(store, x.getShape()));
            cur.attach(store);
            NDArray mask = DiffusionModel.fullMask(x0);
            NDArray masked = store.zeros(x.getShape());
            NDArray ctx = model.context(store, Collections.nCopies(n, ""), false);
            for (int i = 0; i < grid.length; i++) {
                int tPrev = i + 1 < grid.length ? grid[i + 1] : -1;
                inputs.add(cur);
                NDArray z = Sampler.drawsNoise(options.sampler(), tPrev) ? noise.normal(store, x.getShape()) : null;
                noises.add(z);
                try (NDManager step = store.newSubManager()) {
                    NDArray next = step(cur, grid[i], tPrev, mask, masked, ctx, z);
                    cur = step.ret(next);
                }
            }
            last = cur;
            output = Scalars.div(cur.add(1f), 2).clip(0f, 1f);
        }

        @Override
        public NDArray output() {
            return output;
        }

        /**
         * The vector-Jacobian product gᵀ ∂output/∂x, exactly (same noise, same steps), in {@code g}'s manager:
         * the final rescaling, each reverse step recomputed with autograd from its stored input, then the forward
         * noising (∂x_{t*} / ∂x = 2√ᾱ_{t*}).
         */
        @Override
        public NDArray pullback(NDArray g) {
            NDManager parent = g.getManager();
            try (NDManager s = parent.newSubManager()) {
                NDArray mask = DiffusionModel.fullMask(last);
                mask.attach(s);
                NDArray masked = s.zeros(last.getShape());
                NDArray ctx = model.context(s, Collections.nCopies(n, ""), false);
                NDArray grad = vjp(s, last, g, xf -> Scalars.div(xf.add(1f), 2).clip(0f, 1f));
                for (int i = grid.length - 1; i >= 0; i--) {
                    int t = grid[i];
                    int tPrev = i + 1 < grid.length ? grid[i + 1] : -1;
                    NDArray z = noises.get(i);
                    NDArray gi = vjp(s, inputs.get(i), grad, xi -> step(xi, t, tPrev, mask, masked, ctx, z));
                    grad.close();
                    grad = gi;
                }
                NDArray out = Scalars.mul(grad, 2 * Math.sqrt(model.schedule().alphaBar(tStar)));
                out.attach(parent);
                return out;
            }
        }

        /** gᵀ ∂f(x)/∂x at a stored point, with the autograd graph of one application of f; result in {@code s}. */
        private NDArray vjp(NDManager s, NDArray at, NDArray g, java.util.function.UnaryOperator<NDArray> f) {
            try (NDManager local = s.newSubManager()) {
                NDArray leaf = at.duplicate();
                leaf.attach(local);
                leaf.setRequiresGradient(true);
                try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance()
                        .newGradientCollector()) {
                    gc.backward(f.apply(leaf).mul(g).sum());
                }
                NDArray grad = leaf.getGradient().duplicate();
                grad.attach(s);
                return grad;
            }
        }

        @Override
        public void close() {
            store.close();
        }
    }

    /** One unconditional reverse step t → tPrev (DDPM ancestral or DDIM), as {@link Sampler#denoise} takes it. */
    private NDArray step(NDArray x, int t, int tPrev, NDArray mask, NDArray masked, NDArray ctx, NDArray z) {
        int[] ts = new int[(int) x.getShape().get(0)];
        java.util.Arrays.fill(ts, t);
        NDArray eps = model.predictNoise(x, ts, mask, masked, ctx, false);
        return options.sampler().ddpm() ? model.schedule().ddpmStep(x, t, eps, z)
                : model.schedule().ddimStep(x, t, tPrev, eps, options.sampler().eta(), z);
    }

    @Override
    public NDArray purify(NDArray x, long seed) {
        NDManager parent = x.getManager();
        NoiseSource noise = new NoiseSource(seed);
        int tStar = model.schedule().timestepForFraction(options.tStar());
        int n = (int) x.getShape().get(0);
        try (NDManager scope = parent.newSubManager()) {
            scope.tempAttachAll(x);
            NDArray x0 = Scalars.mul(x, 2).sub(1f);
            NDArray xt = model.schedule().addNoise(x0, tStar, noise.normal(scope, x.getShape()));
            NDArray mask = DiffusionModel.fullMask(x0);
            NDArray masked = scope.zeros(x.getShape());
            NDArray out = Sampler.denoise(model, scope, xt, tStar, mask, masked, null, Collections.nCopies(n, ""),
                    options.sampler(), noise);
            return scope.ret(Scalars.div(out.add(1f), 2).clip(0f, 1f));
        }
    }
}
