package org.lustra.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.List;
import org.lustra.nn.Scalars;

/**
 * Reverse diffusion with the unified model: text-conditioned generation from pure noise, inpainting of a masked
 * region, and denoising from an intermediate level (DiffPure). Each step runs in its own sub-manager, so native memory
 * stays flat however many steps run (DJL-NOTES: an op's result belongs to its first operand's manager). Every noise
 * draw comes from the given {@link NoiseSource}, so a run is replayable.
 */
public final class Sampler {

    /**
     * @param steps number of model evaluations (grid points from the start level down to 0); for DDPM, the start
     *     level + 1 gives the full ancestral chain
     * @param ddpm true: DDPM ancestral steps (requires the full grid); false: DDIM with {@code eta}
     * @param eta DDIM stochasticity (0 = deterministic)
     * @param guidance classifier-free guidance scale (1 = conditional only, one UNet row per image)
     */
    public record Options(int steps, boolean ddpm, double eta, double guidance) {
        public Options {
            if (steps < 1 || eta < 0 || guidance < 0) {
                throw new IllegalArgumentException("Invalid sampler options: steps=" + steps + " eta=" + eta
                        + " guidance=" + guidance);
            }
        }

        public static Options ddim(int steps, double guidance) {
            return new Options(steps, false, 0.0, guidance);
        }
    }

    private Sampler() {}

    /** Generates images in [0, 1] for the prompts, starting from pure noise at t = T−1. Result in {@code parent}. */
    public static NDArray generate(DiffusionModel model, NDManager parent, List<String> prompts, Options opt,
            NoiseSource noise) {
        DiffusionConfig c = model.config();
        Shape shape = new Shape(prompts.size(), c.channels(), c.size(), c.size());
        NDArray x = noise.normal(parent, shape);
        NDArray mask = parent.ones(new Shape(prompts.size(), 1, c.size(), c.size()));
        NDArray masked = parent.zeros(shape);
        NDArray out = denoise(model, parent, x, model.schedule().steps() - 1, mask, masked, null, prompts, opt, noise);
        return toUnit(out, parent);
    }

    /**
     * Inpaints the region {@code mask} = 1 of {@code image01} (N, C, H, W in [0, 1]) from pure noise, then pastes the
     * unmasked pixels back from the input (SPEC §4.2). Result in [0, 1], in {@code parent}.
     */
    public static NDArray inpaint(DiffusionModel model, NDManager parent, NDArray image01, NDArray mask,
            List<String> prompts, Options opt, NoiseSource noise) {
        NDArray x0 = Scalars.mul(image01, 2).sub(1f);
        NDArray keep = mask.sub(1f).neg();
        NDArray masked = x0.mul(keep);
        NDArray x = noise.normal(parent, x0.getShape());
        NDArray out = denoise(model, parent, x, model.schedule().steps() - 1, mask, masked, null, prompts, opt, noise);
        NDArray pasted = out.mul(mask).add(x0.mul(keep));
        return toUnit(pasted, parent);
    }

    /**
     * Runs the reverse chain from {@code xStart} at level {@code tStart} to a clean image (in [-1, 1]). With
     * {@code known} non-null (RePaint-style), pixels where {@code mask} = 0 are replaced after every step by a fresh
     * noising of {@code known} at the new level. Result in {@code parent}.
     */
    public static NDArray denoise(DiffusionModel model, NDManager parent, NDArray xStart, int tStart, NDArray mask,
            NDArray masked, NDArray known, List<String> prompts, Options opt, NoiseSource noise) {
        return denoiseWithContext(model, parent, xStart, tStart, mask, masked, known,
                model.context(parent, prompts, false), opt, noise);
    }

    /**
     * As {@link #denoise}, conditioned on prompt contexts (N, L, D) instead of text (e.g. learned prompt embeddings).
     * The unconditional rows of guidance use the empty prompt.
     */
    public static NDArray denoiseWithContext(DiffusionModel model, NDManager parent, NDArray xStart, int tStart,
            NDArray mask, NDArray masked, NDArray known, NDArray ctxCond, Options opt, NoiseSource noise) {
        NoiseSchedule s = model.schedule();
        int n = (int) xStart.getShape().get(0);
        int[] grid = reverseGrid(opt, tStart);
        boolean guided = opt.guidance() != 1.0;
        // What stays fixed along the chain is made once here, in a scope closed with the chain: the guided step's
        // stacked rows ({mask; mask}, {masked; masked}, {cond; uncond}) and RePaint's keep-mask 1 − mask. Made per
        // step they were copies (and, for 1 − mask, a Java-to-engine scalar) at every step, for the same values.
        try (NDManager fixed = parent.newSubManager()) {
            fixed.tempAttachAll(mask, masked, ctxCond);
            NDList stacked = guided ? DiffusionModel.stackTwice(mask, masked, ctxCond,
                    model.context(fixed, Collections.nCopies(n, ""), false)) : null;
            NDArray keep = known != null ? mask.sub(1f).neg() : null;
            // ours: each step takes the previous iterate with it when it closes. Not duplicate(): that cuts the
            // autograd graph, and EXACT gradients through DiffPure came out as zeros.
            NDArray x = xStart.add(0f);
            for (int i = 0; i < grid.length; i++) {
                int t = grid[i];
                int tPrev = i + 1 < grid.length ? grid[i + 1] : -1;
                try (NDManager step = parent.newSubManager()) {
                    x.attach(step);
                    step.tempAttachAll(mask, masked, ctxCond);
                    if (stacked != null) {
                        step.tempAttachAll(stacked.toArray(new NDArray[0]));
                    }
                    if (known != null) {
                        step.tempAttachAll(known, keep);
                    }
                    int[] ts = filled(n, t);
                    NDArray eps;
                    if (guided) {
                        NDList parts = model.predictNoiseUnder(x, ts, stacked);
                        eps = NoiseSchedule.guide(parts.get(0), parts.get(1), opt.guidance());
                    } else {
                        eps = model.predictNoise(x, ts, mask, masked, ctxCond, false);
                    }
                    NDArray z = drawsNoise(opt, tPrev) ? noise.normal(step, x.getShape()) : null;
                    NDArray next = opt.ddpm() ? s.ddpmStep(x, t, eps, z) : s.ddimStep(x, t, tPrev, eps, opt.eta(), z);
                    if (known != null) {
                        NDArray knownAtPrev = tPrev >= 0
                                ? s.addNoise(known, tPrev, noise.normal(step, known.getShape())) : known;
                        next = next.mul(mask).add(knownAtPrev.mul(keep));
                    }
                    x = step.ret(next);
                }
            }
            return x;
        }
    }

    /** The timesteps a reverse chain from {@code tStart} visits: every step for DDPM, a strided grid for DDIM. */
    public static int[] reverseGrid(Options opt, int tStart) {
        return opt.ddpm() ? fullGrid(tStart) : NoiseSchedule.grid(tStart, Math.min(opt.steps(), tStart + 1));
    }

    /** True when the step t → tPrev draws fresh noise (DDPM above t = 0, or DDIM with η > 0). */
    public static boolean drawsNoise(Options opt, int tPrev) {
        return tPrev >= 0 && (opt.ddpm() || opt.eta() > 0);
    }

    private static int[] fullGrid(int tStart) {
        int[] g = new int[tStart + 1];
        for (int i = 0; i <= tStart; i++) {
            g[i] = tStart - i;
        }
        return g;
    }

    private static int[] filled(int n, int t) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, t);
        return a;
    }

    /** [-1, 1] → [0, 1], clamped; result in {@code parent}. */
    static NDArray toUnit(NDArray x, NDManager parent) {
        NDArray y = Scalars.div(x.add(1f), 2).clip(0f, 1f);
        y.attach(parent);
        return y;
    }
}
