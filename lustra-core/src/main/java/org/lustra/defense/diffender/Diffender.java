package org.lustra.defense.diffender;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.lustra.defense.GradientMode;
import org.lustra.defense.DetectingPurifier;
import org.lustra.defense.ThresholdedPurifier;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.diffusion.Sampler;
import org.lustra.nn.Scalars;

/**
 * DIFFender (Kang et al., "DIFFender: Diffusion-Based Adversarial Defense against Patch Attacks", ECCV 2024; SPEC §4):
 * one text-guided, inpainting-capable diffusion model first localises adversarial patches ({@link PatchLocalizer},
 * prompt_L) and then repaints the localised region ({@link #restore}, prompt_R): purify(x) = restore(x, refine(
 * localize(x))). Unmasked pixels are always pasted back from the input.
 *
 * <p>Gradient modes: {@link GradientMode#BPDA} (identity backward through everything) and {@link GradientMode#STE},
 * the seed's adaptive attack: exact through the one-step localisation UNet calls, straight-through at both
 * thresholds, and BPDA (identity) for the repainted content — output = x·(1 − M) + [x + sg(R − x)]·M, so the
 * gradient reaches the input through the mask as well as through the pixels; and {@link GradientMode#MASKED}
 * ({@link #purifyMaskedSurrogate}), the corrected surrogate without that identity term. For evade-then-fool attacks it
 * also opens its localiser as a {@link DetectingPurifier}: a differentiable soft mask and the hard one.
 */
public final class Diffender implements ThresholdedPurifier, DetectingPurifier {

    /**
     * @param localization AAP settings
     * @param promptL localisation prompt (EP variant: the empty prompt)
     * @param promptR restoration prompt
     * @param restore false = the NR ablation: the masked region is set to zero instead of repainted
     * @param restoreSteps DDIM steps of the inpainting (official 20)
     * @param restoreGuidance classifier-free guidance of the inpainting (official 7.5; 1 = one UNet row per image)
     * @param strength 1 = inpaint from pure noise (official); below 1, start from the input noised to that fraction
     *     of T
     */
    public record Options(PatchLocalizer.Options localization, Prompt promptL, Prompt promptR, boolean restore,
            int restoreSteps, double restoreGuidance, double strength) {
        public Options {
            if (localization == null || promptL == null || promptR == null) {
                throw new IllegalArgumentException("DIFFender needs localisation options and both prompts");
            }
            if (restoreSteps < 1 || !(restoreGuidance >= 0) || !(strength > 0 && strength <= 1)) {
                throw new IllegalArgumentException("Invalid restoration: steps " + restoreSteps + " (≥ 1), guidance "
                        + restoreGuidance + " (≥ 0), strength " + strength + " (0 < s ≤ 1)");
            }
        }

        /** The manual-prompt (MP) variant with the official settings. */
        public static Options manual() {
            return new Options(PatchLocalizer.Options.defaults(), Prompt.text(MANUAL_L), Prompt.text(MANUAL_R), true,
                    20, 7.5, 1.0);
        }

        /**
         * The empty-prompt (EP) variant: ∅ on both sides with independent noise per branch, so the difference comes
         * only from the noise draws — the bare AAP phenomenon; restoration unguided.
         */
        public static Options emptyPrompts() {
            return new Options(PatchLocalizer.Options.defaults().withIndependentNoise(true), Prompt.empty(),
                    Prompt.empty(), true, 20, 1.0, 1.0);
        }

        public Options withPrompts(Prompt l, Prompt r) {
            return new Options(localization, l, r, restore, restoreSteps, restoreGuidance, strength);
        }

        public Options withLocalization(PatchLocalizer.Options loc) {
            return new Options(loc, promptL, promptR, restore, restoreSteps, restoreGuidance, strength);
        }

        public Options withRestore(boolean r) {
            return new Options(localization, promptL, promptR, r, restoreSteps, restoreGuidance, strength);
        }

        public Options withRestoration(int steps, double guidance, double s) {
            return new Options(localization, promptL, promptR, restore, steps, guidance, s);
        }
    }

    /** Manual prompts in our vocabulary (SPEC §4.1 MP): the training captions give "patch" and "clean" a meaning. */
    public static final String MANUAL_L = "a photo with a patch";
    public static final String MANUAL_R = "a clean photo";

    /** A purification with what produced it; arrays owned by the input's manager. */
    public record Result(NDArray purified, PatchLocalizer.Localization localization) {}

    private final DiffusionModel model;
    private final Options options;
    private final PatchLocalizer localizer;

    public Diffender(DiffusionModel model, Options options) {
        this.model = model;
        this.options = options;
        this.localizer = new PatchLocalizer(model, options.localization());
    }

    public Options options() {
        return options;
    }

    public PatchLocalizer localizer() {
        return localizer;
    }

    @Override
    public String name() {
        PatchLocalizer.Options l = options.localization();
        return String.format(Locale.ROOT, "diffender(L=%s, R=%s, abar=%.2f, g=%.1f, m=%d, theta=%.1f%s%s%s%s, %s)",
                options.promptL(), options.promptR(), l.alphaBar(), l.guidance(), l.repetitions(), l.theta(),
                l.floor() > 0 ? String.format(Locale.ROOT, ", floor=%.3f", l.floor()) : "",
                l.signal() == PatchLocalizer.Signal.RECONSTRUCTION ? ", reconstruction signal" : "",
                l.clipX0() ? ", x0 clipped" : "", l.refine() ? "" : ", no refine", options.restore() ? "ddim" + options.restoreSteps() + " g="
                        + options.restoreGuidance() + (options.strength() < 1 ? " strength=" + options.strength() : "")
                        : "NR");
    }

    @Override
    public Set<GradientMode> gradientModes() {
        return EnumSet.of(GradientMode.BPDA, GradientMode.STE, GradientMode.MASKED);
    }

    @Override
    public boolean randomized() {
        return true;
    }

    @Override
    public NDArray purify(NDArray x, long seed) {
        try (NDManager s = x.getManager().newSubManager()) {
            NDArray in = x.stopGradient();
            in.attach(s);
            NDArray out = run(in, seed).purified();
            out.attach(x.getManager());
            return out;
        }
    }

    /** Purifies and returns the localisation too (for the CLI, the service and mask metrics); no gradient. */
    public Result purifyWithMasks(NDArray x, long seed) {
        NDManager parent = x.getManager();
        try (NDManager s = parent.newSubManager()) {
            NDArray in = x.stopGradient();
            in.attach(s);
            Result r = run(in, seed);
            for (NDArray a : new NDArray[] {r.purified(), r.localization().anomaly(), r.localization().zScores(),
                r.localization().rawMask(), r.localization().mask()}) {
                a.attach(parent);
            }
            return r;
        }
    }

    @Override
    public Masked purifyMasked(NDArray x, long seed) {
        Result r = purifyWithMasks(x, seed);
        return new Masked(r.purified(), r.localization().mask(), r.localization().anomaly());
    }

    @Override
    public String straightThrough() {
        return "straight-through thresholds, exact localisation, BPDA for the repainted pixels";
    }

    /**
     * The seed's adaptive-attack forward (gradient mode STE): same output as {@link #purify} with the same seed, with
     * an autograd graph through the localisation (STE at the thresholds) and BPDA for the repainted pixels. Owned by
     * {@code x}'s manager.
     */
    @Override
    public NDArray purifyForAttack(NDArray x, long seed) {
        NoiseSource noise = new NoiseSource(seed);
        PatchLocalizer.Localization loc = localizer.localize(x, options.promptL(), noise);
        NDArray mask = loc.mask();
        NDArray repainted = detachedContent(x, mask, noise);
        NDArray keep = mask.sub(1f).neg();
        NDArray bpda = x.add(repainted.sub(x).stopGradient());
        return x.mul(keep).add(bpda.mul(mask));
    }

    /**
     * The attacker's temperature k of {@link #softDetection(NDArray, long)}: σ(1·(Z − θ)), θ being max(θ, z-score of
     * the floor) when the variant has an anomaly floor.
     */
    public static final double SOFT_TEMPERATURE = 1.0;

    /** {@link #softDetection(NDArray, long, double)} at {@link #SOFT_TEMPERATURE}. */
    @Override
    public NDArray softDetection(NDArray x, long seed) {
        return softDetection(x, seed, SOFT_TEMPERATURE);
    }

    /**
     * The localiser's differentiable refined mask ({@link PatchLocalizer#softMask}) from the same one-step x̂0 as
     * {@code purify(x, seed)} localises with: exact gradients through the localiser's UNet calls, the restoration never
     * runs. (N, 1, H, W) in [0, 1], owned by {@code x}'s manager.
     */
    public NDArray softDetection(NDArray x, long seed, double temperature) {
        PatchLocalizer.Localization loc = localizer.localize(x, options.promptL(), new NoiseSource(seed));
        return localizer.softMask(loc, temperature);
    }

    /** The refined mask {@code purify(x, seed)} repaints, from the localisation alone; no gradient. */
    @Override
    public NDArray detection(NDArray x, long seed) {
        try (NDManager s = x.getManager().newSubManager()) {
            NDArray in = x.stopGradient();
            in.attach(s);
            NDArray mask = localizer.localize(in, options.promptL(), new NoiseSource(seed)).mask().stopGradient();
            mask.attach(x.getManager());
            return mask;
        }
    }

    /**
     * Gradient mode MASKED, the corrected surrogate of the whole pipeline (issue 11, 3c): out = x·(1 − M̃) + sg(R)·M̃,
     * so ∂out/∂x = (1 − M) + (R − x)·∂M̃/∂x, with M̃ the localiser's mask (exact through its UNet calls, straight
     * through its two thresholds) and R the repainting, a constant. Same output as {@code purify(x, seed)}; EOT over
     * the restoration's noise comes from the caller's copies (every row draws its own noise).
     *
     * <p>Why not the seed's STE ({@link #purifyForAttack}): it writes the repainted pixels as x + sg(R − x), whose
     * backward adds the identity for every masked pixel — the classifier's gradient at the repainted image, which
     * does not depend on the patch, handed to the patch pixels as if they reached the classifier. For a detector that
     * is the wrong signal: a detected patch pixel is thrown away, and the only way it can matter is by not being
     * detected, which only the (R − x)·∂M̃/∂x term says. The identity term is usually the larger one, so an attacker
     * following STE keeps optimising pixels the defence repaints and barely pushes to evade. Owned by {@code x}'s
     * manager.
     */
    @Override
    public NDArray purifyMaskedSurrogate(NDArray x, long seed) {
        NoiseSource noise = new NoiseSource(seed);
        NDArray mask = localizer.localize(x, options.promptL(), noise).mask();
        NDArray repainted = detachedContent(x, mask, noise);
        return x.mul(mask.sub(1f).neg()).add(repainted.mul(mask));
    }

    /** The masked region's content computed off the graph (no gradient through the restoration); in x's manager. */
    private NDArray detachedContent(NDArray x, NDArray mask, NoiseSource noise) {
        try (NDManager s = x.getManager().newSubManager()) {
            NDArray in = x.stopGradient();
            NDArray hard = mask.stopGradient();
            in.attach(s);
            hard.attach(s);
            NDArray repainted = content(in, hard, noise);
            repainted.attach(x.getManager());
            return repainted;
        }
    }

    private Result run(NDArray x, long seed) {
        NoiseSource noise = new NoiseSource(seed);
        PatchLocalizer.Localization loc = localizer.localize(x, options.promptL(), noise);
        NDArray mask = loc.mask();
        NDArray keep = mask.sub(1f).neg();
        NDArray out = x.mul(keep).add(content(x, mask, noise).mul(mask));
        return new Result(out, loc);
    }

    /** What goes into the masked region: the inpainting (in [0, 1]) or zeros (NR); owned by x's manager. */
    private NDArray content(NDArray x, NDArray mask, NoiseSource noise) {
        NDManager m = x.getManager();
        if (!options.restore()) {
            return m.zeros(x.getShape());
        }
        int n = (int) x.getShape().get(0);
        Sampler.Options opt = Sampler.Options.ddim(options.restoreSteps(), options.restoreGuidance());
        NDArray x0 = Scalars.mul(x, 2).sub(1f);
        NDArray masked = x0.mul(mask.sub(1f).neg());
        // strength 1: from pure noise at T − 1 (official); below 1: from the input noised to that level
        int tStart = options.strength() >= 1 ? model.schedule().steps() - 1
                : model.schedule().timestepForFraction(options.strength());
        NDArray noiseStart = noise.normal(m, x.getShape());
        NDArray start = options.strength() >= 1 ? noiseStart : model.schedule().addNoise(x0, tStart, noiseStart);
        NDArray out = denoiseWithPrompt(start, tStart, mask, masked, n, opt, noise);
        return Scalars.div(out.add(1f), 2).clip(0f, 1f);
    }

    private NDArray denoiseWithPrompt(NDArray start, int tStart, NDArray mask, NDArray masked, int n,
            Sampler.Options opt, NoiseSource noise) {
        NDManager m = start.getManager();
        Prompt r = options.promptR();
        if (!r.isLearned()) {
            return Sampler.denoise(model, m, start, tStart, mask, masked, null,
                    Collections.nCopies(n, r.words()), opt, noise);
        }
        return Sampler.denoiseWithContext(model, m, start, tStart, mask, masked, null, r.context(model, m, n), opt,
                noise);
    }
}
