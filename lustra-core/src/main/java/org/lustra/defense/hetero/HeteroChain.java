package org.lustra.defense.hetero;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSchedule;
import org.lustra.diffusion.NoiseSource;
import org.lustra.nn.Scalars;

/**
 * The heterogeneous chain as a fixed list of operations, planned once from the options, so that the forward pass and
 * the exact-gradient recomputation walk the very same steps and draw the very same noise. Images are in [-1, 1];
 * every returned array belongs to the manager of the first array argument.
 *
 * <p>Seed §3.2, Algorithm 1: stage 1 (a step landing at t' ≥ t_s) is RePaint-style inpainting — the model's step
 * inside M, a fresh noising of the input at t' outside; stage 2 is plain denoising. The seed's eq. 8 as printed puts
 * M on the known part, which contradicts its own text ("pixels inside the attention mask ... predicted"); we follow
 * the text and SPEC §5.
 */
final class HeteroChain {

    /** A model step t → t' (DENOISE) or a closed-form forward noising t → t' > t (DIFFUSE). */
    enum Kind { DENOISE, DIFFUSE }

    /**
     * One operation.
     *
     * @param ddim a DDIM step (else DDPM ancestral); single-step resampling's jump is always DDIM
     * @param stage1 replace the outside of M by a fresh noising of the input at {@code to} (and, with inpainting
     *     conditioning, show the model M and the input outside M)
     */
    record Op(Kind kind, int from, int to, boolean ddim, boolean stage1) {
        /** Whether the operation reads the input image (so the exact gradient reaches the input through it). */
        boolean readsInput() {
            return kind == Kind.DENOISE && stage1;
        }
    }

    /**
     * What every step reads besides the iterate: the input x0, the mask M and 1 − M, the UNet's mask channels for
     * each stage, and the empty-prompt context.
     */
    record Context(NDArray x0, NDArray mask, NDArray keep, NDArray condMask1, NDArray condImage1, NDArray condMask2,
            NDArray condImage2, NDArray prompt) {
        /** The distinct arrays, to borrow into a step's manager. */
        NDArray[] arrays() {
            Set<NDArray> s = Collections.newSetFromMap(new IdentityHashMap<>());
            s.addAll(List.of(x0, mask, keep, condMask1, condImage1, condMask2, condImage2, prompt));
            return s.toArray(new NDArray[0]);
        }
    }

    private final DiffusionModel model;
    private final HeteroOptions o;
    private final NoiseSchedule schedule;
    private final int tLarge;
    private final int tSmall;
    private final int[] grid;
    private final List<Op> ops;

    HeteroChain(DiffusionModel model, HeteroOptions o) {
        this.model = model;
        this.o = o;
        this.schedule = model.schedule();
        this.tLarge = schedule.timestepForFraction(o.tLarge());
        this.tSmall = Math.min(tLarge, schedule.timestepForFraction(o.tSmall()));
        this.grid = grid(tLarge, tSmall, o.stride());
        this.ops = plan();
    }

    int tLarge() {
        return tLarge;
    }

    int tSmall() {
        return tSmall;
    }

    List<Op> ops() {
        return ops;
    }

    /** Reverse grid from t_l to 0 with t_s on it: t_l, t_l − s, … (> t_s), t_s, t_s − s, … (> 0), 0. */
    static int[] grid(int tLarge, int tSmall, int stride) {
        List<Integer> g = new ArrayList<>();
        for (int t = tLarge; t > tSmall; t -= stride) {
            g.add(t);
        }
        for (int t = tSmall; t > 0; t -= stride) {
            g.add(t);
        }
        g.add(0);
        return g.stream().mapToInt(Integer::intValue).toArray();
    }

    private List<Op> plan() {
        boolean ddim = o.solver() == HeteroOptions.Solver.DDIM;
        int u = o.resampling() == HeteroOptions.Resampling.NONE ? 0 : o.resampleSteps();
        List<Op> out = new ArrayList<>();
        for (int i = 0; i < grid.length; i++) {
            int t = grid[i];
            int tPrev = i + 1 < grid.length ? grid[i + 1] : -1;
            boolean stage1 = tPrev >= tSmall && tSmall < tLarge;
            out.add(new Op(Kind.DENOISE, t, tPrev, ddim, stage1));
            if (!stage1 || u == 0) {
                continue;
            }
            if (o.resampling() == HeteroOptions.Resampling.SINGLE) {
                int up = Math.min(schedule.steps() - 1, tPrev + u * o.stride());
                if (up > tPrev) {
                    out.add(new Op(Kind.DIFFUSE, tPrev, up, false, false));
                    out.add(new Op(Kind.DENOISE, up, tPrev, true, true));
                }
            } else {
                for (int k = 0; k < u; k++) {
                    out.add(new Op(Kind.DIFFUSE, tPrev, t, false, false));
                    out.add(new Op(Kind.DENOISE, t, tPrev, ddim, true));
                }
            }
        }
        return List.copyOf(out);
    }

    /** The context for input {@code x0} and mask {@code mask}; derived arrays in x0's manager. */
    Context context(NDArray x0, NDArray mask, NDArray prompt) {
        NDArray keep = mask.neg().add(1f);
        NDArray full = DiffusionModel.fullMask(x0);
        NDArray zeros = x0.zerosLike();
        boolean inpaint = o.conditioning() == HeteroOptions.Conditioning.INPAINT;
        return new Context(x0, mask, keep, inpaint ? mask : full, inpaint ? x0.mul(keep) : zeros, full, zeros,
                prompt);
    }

    /** The same context with another input (a leaf for the gradient); the mask channels are recomputed from it. */
    Context withInput(Context c, NDArray x0) {
        boolean inpaint = o.conditioning() == HeteroOptions.Conditioning.INPAINT;
        return new Context(x0, c.mask(), c.keep(), c.condMask1(), inpaint ? x0.mul(c.keep()) : c.condImage1(),
                c.condMask2(), c.condImage2(), c.prompt());
    }

    /** Seed eq. 5: x(t_l, t_s) = M ⊙ noise(x0, t_l) + (1 − M) ⊙ noise(x0, t_s), one ε for both (M picks each pixel once). */
    NDArray start(NDArray x0, NDArray mask, NDArray keep, NDArray eps) {
        NDArray strong = schedule.addNoise(x0, tLarge, eps);
        NDArray weak = schedule.addNoise(x0, tSmall, eps);
        return strong.mul(mask).add(weak.mul(keep));
    }

    /**
     * The noise {@code op} consumes, drawn from {@code noise} in a fixed order (the step's own noise, then the known
     * region's), into {@code m}; null entries where none is needed.
     */
    NDArray[] draw(Op op, NoiseSource noise, NDManager m, Shape shape) {
        NDArray z = null;
        NDArray known = null;
        if (op.kind() == Kind.DIFFUSE) {
            z = noise.normal(m, shape);
        } else {
            boolean stochastic = op.to() >= 0 && (!op.ddim() || o.eta() > 0);
            if (stochastic) {
                z = noise.normal(m, shape);
            }
            if (op.stage1()) {
                known = noise.normal(m, shape);
            }
        }
        return new NDArray[] {z, known};
    }

    /** Applies {@code op} to the iterate {@code x} with its drawn noise; result in x's manager. */
    NDArray apply(Op op, NDArray x, Context c, NDArray[] noise) {
        if (op.kind() == Kind.DIFFUSE) {
            // q(x_to | x_from) in closed form: ᾱ_to / ᾱ_from is the product of the α's in between
            double ratio = schedule.alphaBar(op.to()) / schedule.alphaBar(op.from());
            return Scalars.mul(x, Math.sqrt(ratio)).add(Scalars.mul(noise[0], Math.sqrt(1 - ratio)));
        }
        int[] ts = new int[(int) x.getShape().get(0)];
        java.util.Arrays.fill(ts, op.from());
        NDArray eps = op.stage1()
                ? model.predictNoise(x, ts, c.condMask1(), c.condImage1(), c.prompt(), false)
                : model.predictNoise(x, ts, c.condMask2(), c.condImage2(), c.prompt(), false);
        NDArray next = op.ddim() ? schedule.ddimStep(x, op.from(), op.to(), eps, o.eta(), noise[0])
                : schedule.ddpmStep(x, op.from(), eps, noise[0]);
        if (!op.stage1()) {
            return next;
        }
        NDArray known = schedule.addNoise(c.x0(), op.to(), noise[1]);
        return next.mul(c.mask()).add(known.mul(c.keep()));
    }
}
