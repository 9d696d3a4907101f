package org.lustra.defense.diffpure;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Purifier;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.diffusion.Sampler;

/**
 * DiffPure (Nie et al., 2022): diffuse the input to a small noise level t* with the forward process, then run the
 * reverse process back to a clean image, unconditionally (empty prompt, plain-denoising mask). The reverse chain is
 * DDPM ancestral (every step from t*·T down to 0) or a DDIM grid with a configurable number of steps.
 */
public final class DiffPure implements Purifier {

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

    @Override
    public NDArray purify(NDArray x, long seed) {
        NDManager parent = x.getManager();
        NoiseSource noise = new NoiseSource(seed);
        int tStar = model.schedule().timestepForFraction(options.tStar());
        int n = (int) x.getShape().get(0);
        try (NDManager scope = parent.newSubManager()) {
            scope.tempAttachAll(x);
            NDArray x0 = x.mul(2f).sub(1f);
            NDArray xt = model.schedule().addNoise(x0, tStar, noise.normal(scope, x.getShape()));
            NDArray mask = DiffusionModel.fullMask(x0);
            NDArray masked = scope.zeros(x.getShape());
            NDArray out = Sampler.denoise(model, scope, xt, tStar, mask, masked, null, Collections.nCopies(n, ""),
                    options.sampler(), noise);
            return scope.ret(out.add(1f).div(2f).clip(0f, 1f));
        }
    }
}
