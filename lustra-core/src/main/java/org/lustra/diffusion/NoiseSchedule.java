package org.lustra.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.lustra.nn.Scalars;

/**
 * The DDPM noise schedule (Ho et al., 2020) and the closed-form operations every purifier needs: forward noising
 * q(x_t | x_0), one-step x̂0, the DDPM ancestral step, and the DDIM step (Song et al., 2021) with configurable η on any
 * strided grid. Images live in [-1, 1]; timesteps are indices 0..T-1 with ᾱ_t = Π_{s ≤ t}(1 − β_s), precomputed in
 * double precision. Arrays returned belong to the manager of the first array argument.
 */
public final class NoiseSchedule {
    private final double[] betas;
    private final double[] alphaBars;

    private NoiseSchedule(double[] betas) {
        this.betas = betas;
        this.alphaBars = new double[betas.length];
        double prod = 1.0;
        for (int t = 0; t < betas.length; t++) {
            prod *= 1.0 - betas[t];
            alphaBars[t] = prod;
        }
    }

    /** Linear β from {@code betaStart} to {@code betaEnd} over {@code steps} steps (DDPM: 1000, 1e-4, 0.02). */
    public static NoiseSchedule linear(int steps, double betaStart, double betaEnd) {
        if (steps < 2 || !(betaStart > 0 && betaStart <= betaEnd && betaEnd < 1)) {
            throw new IllegalArgumentException("Invalid linear schedule: steps=" + steps + " beta " + betaStart + " → "
                    + betaEnd + " (need steps ≥ 2 and 0 < start ≤ end < 1)");
        }
        double[] b = new double[steps];
        for (int t = 0; t < steps; t++) {
            b[t] = betaStart + (betaEnd - betaStart) * t / (steps - 1);
        }
        return new NoiseSchedule(b);
    }

    /** The schedule shared by every Lustra purifier (SPEC §3): T = 1000, linear β 1e-4 → 0.02. */
    public static NoiseSchedule standard() {
        return linear(1000, 1e-4, 0.02);
    }

    public int steps() {
        return betas.length;
    }

    public double beta(int t) {
        return betas[check(t)];
    }

    /** ᾱ_t; by convention ᾱ_{-1} = 1 (the clean image). */
    public double alphaBar(int t) {
        return t < 0 ? 1.0 : alphaBars[check(t)];
    }

    /** The timestep for a fraction of T, as DiffPure writes t* (0.1 → t = 100 of 1000). */
    public int timestepForFraction(double fraction) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("Invalid noise fraction: " + fraction + " (0 < t* ≤ 1)");
        }
        return Math.max(0, Math.min(steps() - 1, (int) Math.round(fraction * steps())));
    }

    /** The timestep whose ᾱ is closest to {@code alphaBar} (DIFFender parametrises its noise level by ᾱ). */
    public int timestepForAlphaBar(double alphaBar) {
        if (!(alphaBar > 0 && alphaBar < 1)) {
            throw new IllegalArgumentException("Invalid alpha-bar: " + alphaBar + " (0 < ᾱ < 1)");
        }
        int best = 0;
        for (int t = 1; t < steps(); t++) {
            if (Math.abs(alphaBars[t] - alphaBar) < Math.abs(alphaBars[best] - alphaBar)) {
                best = t;
            }
        }
        return best;
    }

    /** x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε, with one timestep per sample ({@code t.length == N}). */
    public NDArray addNoise(NDArray x0, int[] t, NDArray noise) {
        double[] a = new double[t.length];
        double[] s = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            a[i] = Math.sqrt(alphaBar(t[i]));
            s[i] = Math.sqrt(1 - alphaBar(t[i]));
        }
        return x0.mul(column(x0, a)).add(noise.mul(column(x0, s)));
    }

    /** x_t with the same timestep for the whole batch. */
    public NDArray addNoise(NDArray x0, int t, NDArray noise) {
        return Scalars.mul(x0, Math.sqrt(alphaBar(t))).add(Scalars.mul(noise, Math.sqrt(1 - alphaBar(t))));
    }

    /** One-step x̂0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t. */
    public NDArray predictX0(NDArray xt, int t, NDArray eps) {
        double ab = alphaBar(t);
        return Scalars.div(xt.sub(Scalars.mul(eps, Math.sqrt(1 - ab))), Math.sqrt(ab));
    }

    /** One-step x̂0 with one timestep per sample. */
    public NDArray predictX0(NDArray xt, int[] t, NDArray eps) {
        double[] inv = new double[t.length];
        double[] s = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            inv[i] = 1 / Math.sqrt(alphaBar(t[i]));
            s[i] = Math.sqrt(1 - alphaBar(t[i]));
        }
        return xt.sub(eps.mul(column(xt, s))).mul(column(xt, inv));
    }

    /**
     * DDPM ancestral step t → t−1: μ = (x_t − β_t/√(1−ᾱ_t) ε)/√α_t, plus σ_t z with the posterior variance
     * σ_t² = β_t (1−ᾱ_{t−1})/(1−ᾱ_t). At t = 0 no noise is added ({@code noise} may then be null).
     */
    public NDArray ddpmStep(NDArray xt, int t, NDArray eps, NDArray noise) {
        double beta = beta(t);
        double mean1 = 1 / Math.sqrt(1 - beta);
        double mean2 = beta / Math.sqrt(1 - alphaBar(t));
        NDArray mean = Scalars.mul(xt.sub(Scalars.mul(eps, mean2)), mean1);
        if (t == 0) {
            return mean;
        }
        double sigma = Math.sqrt(beta * (1 - alphaBar(t - 1)) / (1 - alphaBar(t)));
        return mean.add(Scalars.mul(noise, sigma));
    }

    /** σ of a DDIM step t → tPrev for a given η (η = 1 matches DDPM's posterior variance on the full grid). */
    public double ddimSigma(int t, int tPrev, double eta) {
        double ab = alphaBar(t);
        double abPrev = alphaBar(tPrev);
        return eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(1 - ab / abPrev);
    }

    /**
     * DDIM step t → tPrev (tPrev = −1 means the clean image): x_prev = √ᾱ_prev x̂0 + √(1 − ᾱ_prev − σ²) ε + σ z, with x̂0
     * clipped to [−1, 1] and ε re-derived from the clipped x̂0.
     * {@code noise} may be null when η = 0.
     */
    public NDArray ddimStep(NDArray xt, int t, int tPrev, NDArray eps, double eta, NDArray noise) {
        if (tPrev >= t) {
            throw new IllegalArgumentException("Invalid DDIM step " + t + " → " + tPrev + ": must go down");
        }
        double abPrev = alphaBar(tPrev);
        double sigma = ddimSigma(t, tPrev, eta);
        // x̂0 clipped to the data range [−1, 1] and ε re-derived from it, as reference DDIM samplers do
        // ("clip_sample"); without it, early steps' out-of-range x̂0 leave speckle in the samples.
        double ab = alphaBar(t);
        NDArray x0 = predictX0(xt, t, eps).clip(-1f, 1f);
        NDArray epsClipped = Scalars.div(xt.sub(Scalars.mul(x0, Math.sqrt(ab))), Math.sqrt(1 - ab));
        NDArray out = Scalars.mul(x0, Math.sqrt(abPrev)).add(Scalars.mul(epsClipped, Math.sqrt(Math.max(0, 1 - abPrev
                - sigma * sigma))));
        return sigma > 0 ? out.add(Scalars.mul(noise, sigma)) : out;
    }

    /** Classifier-free guidance ε̂ = ε_u + g (ε_c − ε_u). */
    public static NDArray guide(NDArray epsCond, NDArray epsUncond, double scale) {
        return epsUncond.add(Scalars.mul(epsCond.sub(epsUncond), scale));
    }

    /**
     * A strided grid of timesteps from {@code start} down to 0 in {@code count} steps (both ends included, evenly
     * spaced, rounded), e.g. (100, 5) → [100, 75, 50, 25, 0]; the sampler then steps to −1 after the last.
     */
    public static int[] grid(int start, int count) {
        if (count < 1 || start < 0 || count > start + 1) {
            throw new IllegalArgumentException("Invalid grid: " + count + " steps from t = " + start
                    + " (need 1 ≤ steps ≤ t + 1)");
        }
        int[] g = new int[count];
        for (int i = 0; i < count; i++) {
            g[i] = count == 1 ? start : (int) Math.round(start * (1.0 - (double) i / (count - 1)));
        }
        return g;
    }

    private int check(int t) {
        if (t < 0 || t >= betas.length) {
            throw new IllegalArgumentException("Invalid timestep " + t + " (0.." + (betas.length - 1) + ")");
        }
        return t;
    }

    /** A (N, 1, 1, 1) column of per-sample coefficients in {@code like}'s manager. */
    private static NDArray column(NDArray like, double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        // engine-owned: autograd saves this factor, and a create(float[]) array dies with its Java handle
        return Scalars.owned(like.getManager(), f, new Shape(v.length, 1, 1, 1));
    }
}
