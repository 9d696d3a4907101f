package org.lustra.defense.diffender;

/**
 * The settings of DIFFender's prompt tuning ({@link PromptTuning}). Field names are part of the shipped prompts' model
 * card ({@code training.options}), so they stay as they are; new settings go through {@link Builder}.
 *
 * @param tokens learnable vectors per prompt (n = 16)
 * @param epochs passes over the few-shot set
 * @param batch images per step (official 1)
 * @param sharpness k of the soft mask σ(k(Z − θ)) in the BCE
 * @param maskWeight, l1Weight, featureWeight loss weights (0 drops a term; ℓ1 and feature 0 skip the restoration)
 * @param tuneL, tuneR which prompts learn (the other stays at its start)
 * @param initL, initR words to start from (null: random, std {@code initStd})
 * @param restoreSteps DDIM steps of the restoration while tuning (the defence itself uses its own setting)
 * @param maxGradNorm clipping bound (see {@code clip})
 * @param validationSeed seed of the validation noise, the same at every validation
 */
public record TuningOptions(int tokens, int epochs, int batch, double learningRate, double momentum,
        double weightDecay, double initStd, String initL, String initR, double sharpness, double maskWeight,
        double l1Weight, double featureWeight, boolean tuneL, boolean tuneR, int restoreSteps, int validateEvery,
        GradientClip clip, double maxGradNorm, long seed, long validationSeed) {

    /** How gradients are clipped before the SGD step. */
    public enum GradientClip {
        /** Each weighted term's gradient clipped to the bound on its own, then summed (default). */
        PER_TERM,
        /** The summed gradient clipped (dilutes the smaller terms when one is large). */
        TOTAL,
        /** No clipping. */
        NONE
    }

    public TuningOptions {
        if (tokens < 1 || epochs < 1 || batch < 1 || !(learningRate > 0) || momentum < 0 || momentum >= 1
                || weightDecay < 0 || !(initStd > 0) || !(sharpness > 0) || restoreSteps < 1 || validateEvery < 1
                || !(maskWeight >= 0 && l1Weight >= 0 && featureWeight >= 0)
                || !(maskWeight + l1Weight + featureWeight > 0) || !(tuneL || tuneR) || clip == null
                || !(maxGradNorm > 0)) {
            throw new IllegalArgumentException("Invalid prompt tuning: tokens " + tokens + ", epochs " + epochs
                    + ", batch " + batch + ", lr " + learningRate + ", momentum " + momentum + ", wd "
                    + weightDecay + ", init std " + initStd + ", sharpness " + sharpness + ", restore steps "
                    + restoreSteps + ", validate every " + validateEvery + ", loss weights " + maskWeight + "/"
                    + l1Weight + "/" + featureWeight + ", tune " + tuneL + "/" + tuneR + ", clip " + clip + " "
                    + maxGradNorm + " (need positive sizes, 0 ≤ momentum < 1, weights ≥ 0 with one > 0, at "
                    + "least one prompt tuned, a clip mode and a positive bound)");
        }
    }

    /**
     * The official settings (SPEC §4.4) starting from the manual prompts, restoration at 10 DDIM steps while tuning,
     * per-term clipping at 1.
     */
    public static TuningOptions defaults(long seed) {
        return builder(seed).build();
    }

    /** A builder holding {@link #defaults}; validation runs once, at {@link Builder#build}. */
    public static Builder builder(long seed) {
        return new Builder(seed);
    }

    /** A builder holding these settings. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public TuningOptions withEpochs(int e) {
        return toBuilder().epochs(e).build();
    }

    /**
     * The mask loss alone: only prompt_L learns and no restoration runs, neither in the steps nor in validation (which
     * then scores the masks only).
     */
    public TuningOptions maskLossOnly() {
        return toBuilder().weights(maskWeight > 0 ? maskWeight : 1, 0, 0).tune(true, false).build();
    }

    /** Starting words per prompt (null: random). */
    public TuningOptions withInit(String l, String r) {
        return toBuilder().init(l, r).build();
    }

    public TuningOptions withRestoreSteps(int s) {
        return toBuilder().restoreSteps(s).build();
    }

    /**
     * Settings one by one; starts from {@link #defaults} or from given options. Only the settings a caller changes
     * have setters (momentum, weight decay, init std and sharpness keep the official values or the given options').
     */
    public static final class Builder {
        private int tokens = 16;
        private int epochs = 50;
        private int batch = 1;
        private double learningRate = 0.002;
        private double momentum = 0.9;
        private double weightDecay = 5e-4;
        private double initStd = 0.02;
        private String initL = Diffender.MANUAL_L;
        private String initR = Diffender.MANUAL_R;
        private double sharpness = 2.0;
        private double maskWeight = 1;
        private double l1Weight = 1;
        private double featureWeight = 1;
        private boolean tuneL = true;
        private boolean tuneR = true;
        private int restoreSteps = 10;
        private int validateEvery = 5;
        private GradientClip clip = GradientClip.PER_TERM;
        private double maxGradNorm = 1.0;
        private long seed;
        private long validationSeed;

        private Builder(long seed) {
            this.seed = seed;
            this.validationSeed = seed + 1;
        }

        private Builder(TuningOptions o) {
            tokens = o.tokens;
            epochs = o.epochs;
            batch = o.batch;
            learningRate = o.learningRate;
            momentum = o.momentum;
            weightDecay = o.weightDecay;
            initStd = o.initStd;
            initL = o.initL;
            initR = o.initR;
            sharpness = o.sharpness;
            maskWeight = o.maskWeight;
            l1Weight = o.l1Weight;
            featureWeight = o.featureWeight;
            tuneL = o.tuneL;
            tuneR = o.tuneR;
            restoreSteps = o.restoreSteps;
            validateEvery = o.validateEvery;
            clip = o.clip;
            maxGradNorm = o.maxGradNorm;
            seed = o.seed;
            validationSeed = o.validationSeed;
        }

        public Builder tokens(int v) {
            tokens = v;
            return this;
        }

        public Builder epochs(int v) {
            epochs = v;
            return this;
        }

        public Builder batch(int v) {
            batch = v;
            return this;
        }

        public Builder learningRate(double v) {
            learningRate = v;
            return this;
        }

        /** Starting words per prompt (null: random vectors of this std). */
        public Builder init(String l, String r) {
            initL = l;
            initR = r;
            return this;
        }

        public Builder weights(double mask, double l1, double feature) {
            maskWeight = mask;
            l1Weight = l1;
            featureWeight = feature;
            return this;
        }

        public Builder tune(boolean l, boolean r) {
            tuneL = l;
            tuneR = r;
            return this;
        }

        public Builder restoreSteps(int v) {
            restoreSteps = v;
            return this;
        }

        public Builder validateEvery(int v) {
            validateEvery = v;
            return this;
        }

        public Builder clip(GradientClip c, double bound) {
            clip = c;
            maxGradNorm = bound;
            return this;
        }

        /** The seed of the starting vectors and the step order, and the seed of the validation noise. */
        public Builder seeds(long seed, long validationSeed) {
            this.seed = seed;
            this.validationSeed = validationSeed;
            return this;
        }

        public TuningOptions build() {
            return new TuningOptions(tokens, epochs, batch, learningRate, momentum, weightDecay, initStd, initL,
                    initR, sharpness, maskWeight, l1Weight, featureWeight, tuneL, tuneR, restoreSteps, validateEvery,
                    clip, maxGradNorm, seed, validationSeed);
        }
    }
}
