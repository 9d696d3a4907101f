package org.lustra.defense;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.lustra.data.ImageSet;
import org.lustra.model.Classifier;
import org.lustra.model.Predictions;

/**
 * A classifier behind a purifier: logits(x) = classifier(purify(x)). How an attacker's gradient passes the purifier is
 * part of every call, because a robustness number means nothing without it (SPEC §7):
 * <ul>
 *   <li>{@link GradientMode#EXACT}: autograd through the purification (only for differentiable purifiers);</li>
 *   <li>{@link GradientMode#BPDA}: forward through the purifier, backward as the identity —
 *       x + stopGradient(purify(x) − x) (Athalye et al., 2018);</li>
 *   <li>{@link GradientMode#SURROGATE}: autograd through the purifier's coarse version (recomputable purifiers);</li>
 *   <li>{@link GradientMode#STE}: autograd through a {@link ThresholdedPurifier}'s attack forward (thresholds
 *       straight through);</li>
 *   <li>{@link GradientMode#MASKED}: autograd through a {@link DetectingPurifier}'s corrected surrogate (replaced
 *       content constant, detection mask straight through).</li>
 * </ul>
 * For long chains, {@link #lossGradient} computes EXACT and SURROGATE gradients by recomputation. EOT (batched
 * copies) lives in the attacks' {@code AttackModel}; K-sample voting in the evaluation harness.
 */
public final class DefendedClassifier {
    private final Purifier purifier;
    private final Classifier classifier;
    private final Classifier model;

    public DefendedClassifier(Purifier purifier, Classifier classifier) {
        this.purifier = purifier;
        this.classifier = classifier;
        this.model = purifier instanceof FeatureDefense f ? f.defend(classifier) : classifier;
    }

    public Purifier purifier() {
        return purifier;
    }

    /** The bare classifier (what a non-adaptive attack targets). */
    public Classifier classifier() {
        return classifier;
    }

    /**
     * The classifier purified images go to: the classifier itself, or for a {@link FeatureDefense} the classifier
     * with that defence inside.
     */
    public Classifier model() {
        return model;
    }

    public String name() {
        return purifier.name() + " -> " + classifier.name();
    }

    /** True when the purifier is {@link Identity}: every call goes to the classifier alone. */
    public boolean undefended() {
        return purifier instanceof Identity;
    }

    /**
     * One forward of the defended model and the purified images it classified; {@code mask} (N, 1, H, W) the region a
     * {@link MaskingPurifier} replaced, when asked for ({@link #evaluateWithMask}), else null. All owned by {@code x}'s
     * manager.
     */
    public record Evaluation(NDArray logits, NDArray purified, NDArray mask) {
        public Evaluation(NDArray logits, NDArray purified) {
            this(logits, purified, null);
        }
    }

    /**
     * The forward {@link #logits(NDArray, GradientMode, long)} computes in BPDA mode (the same operations, so the same
     * logits to the bit), also handing out the purified images, so the harness can measure their fidelity to the clean
     * image without a second purification. Undefended: the input itself.
     */
    public Evaluation evaluate(NDArray x, long seed) {
        if (undefended()) {
            return new Evaluation(classifier.logits(x), x);
        }
        NDArray purified = purifier.purify(x.stopGradient(), seed);
        return new Evaluation(bpdaLogits(x, purified), purified);
    }

    /** The classifier at {@code purified} by BPDA's forward (x + sg(purified − x)), as {@link #logits} computes it. */
    private NDArray bpdaLogits(NDArray x, NDArray purified) {
        return model.logits(x.add(purified.sub(x).stopGradient()));
    }

    /**
     * {@link #evaluate}, and for a {@link MaskingPurifier} the region its purification replaced (its masked
     * purification is the same computation as its plain one, so the logits are those of {@link #evaluate} to the bit).
     */
    public Evaluation evaluateWithMask(NDArray x, long seed) {
        if (!(purifier instanceof MaskingPurifier masking)) {
            return evaluate(x, seed);
        }
        MaskingPurifier.Masked r = masking.purifyMasked(x.stopGradient(), seed);
        r.anomaly().close();
        return new Evaluation(bpdaLogits(x, r.purified()), r.purified(), r.mask());
    }

    /** Logits of the defended model; owned by {@code x}'s manager. */
    public NDArray logits(NDArray x, GradientMode mode, long seed) {
        if (!purifier.gradientModes().contains(mode)) {
            throw new IllegalArgumentException("Purifier " + purifier.name() + " does not support gradient mode "
                    + mode + " (it supports " + purifier.gradientModes() + ")");
        }
        if (undefended()) {
            return classifier.logits(x);
        }
        return switch (mode) {
            case EXACT -> model.logits(purifier.purify(x, seed));
            case SURROGATE -> {
                if (!(purifier instanceof RecomputablePurifier r)) {
                    throw new IllegalArgumentException(purifier.name() + " has no surrogate");
                }
                yield model.logits(r.surrogate().purify(x, seed));
            }
            case BPDA -> {
                NDArray purified = purifier.purify(x.stopGradient(), seed);
                yield model.logits(x.add(purified.sub(x).stopGradient()));
            }
            case STE -> {
                if (!(purifier instanceof ThresholdedPurifier tp)) {
                    throw new IllegalArgumentException(purifier.name() + " has no thresholds for STE");
                }
                yield model.logits(tp.purifyForAttack(x, seed));
            }
            case MASKED -> {
                if (!(purifier instanceof DetectingPurifier dp)) {
                    throw new IllegalArgumentException(purifier.name() + " detects no region for MASKED");
                }
                yield model.logits(dp.purifyMaskedSurrogate(x, seed));
            }
        };
    }

    /**
     * Accuracy of the defended model on {@code set}, without gradients: one purification per image, seeded per batch
     * (seed · 1 000 003 + index of the batch's first image), in batches of {@code batch} images.
     */
    public double accuracy(ImageSet set, int batch, long seed) {
        return Predictions.accuracy(predictions(set, batch, seed), set);
    }

    /** The defended model's predicted class per image of {@code set}, drawn exactly as {@link #accuracy} draws them. */
    public int[] predictions(ImageSet set, int batch, long seed) {
        return predictions(set, batch, seed, (from, input, purified) -> { });
    }

    /** Sees each batch's inputs and purified images (both closed after the call) while predictions are drawn. */
    public interface BatchObserver {
        void batch(int from, NDArray input, NDArray purified);
    }

    /** As {@link #predictions(ImageSet, int, long)}, showing every batch's purified images to {@code observer}. */
    public int[] predictions(ImageSet set, int batch, long seed, BatchObserver observer) {
        int[] out = new int[set.size()];
        try (NDManager base = NDManager.newBaseManager()) {
            for (int from = 0; from < set.size(); from += batch) {
                int to = Math.min(set.size(), from + batch);
                try (NDManager m = base.newSubManager()) {
                    NDArray x = set.batch(m, from, to);
                    NDArray purified = purifier.purify(x, seed * 1_000_003L + from);
                    observer.batch(from, x, purified);
                    long[] pred = model.logits(purified).argMax(1).toLongArray();
                    for (int i = from; i < to; i++) {
                        out[i] = (int) pred[i - from];
                    }
                }
            }
        }
        return out;
    }

    /** Per-row loss, logits and input gradient of one evaluation; all owned by {@code x}'s manager. */
    public record LossGradient(NDArray loss, NDArray logits, NDArray gradient) {}

    /**
     * The loss {@code rowLoss(logits)} per row and its input gradient in one evaluation. For a
     * {@link RecomputablePurifier} in mode EXACT (or SURROGATE, on its coarse version) the gradient is pulled back
     * through the recorded chain step by step; otherwise one autograd graph through {@link #logits} is used.
     */
    public LossGradient lossGradient(NDArray x, GradientMode mode, long seed,
            java.util.function.Function<NDArray, NDArray> rowLoss) {
        if (purifier instanceof RecomputablePurifier r && (mode == GradientMode.EXACT
                || mode == GradientMode.SURROGATE)) {
            RecomputablePurifier chain = mode == GradientMode.EXACT ? r : r.surrogate();
            try (RecomputablePurifier.Traced t = chain.record(x, seed)) {
                // gradient at the purified images, then pulled back through the recorded chain
                LossGradient atOutput = differentiate(t.output(), x.getManager(), model::logits, rowLoss);
                NDArray g = t.pullback(atOutput.gradient());
                atOutput.gradient().close();
                return new LossGradient(atOutput.loss(), atOutput.logits(), g);
            }
        }
        return differentiate(x, x.getManager(), leaf -> logits(leaf, mode, seed), rowLoss);
    }

    /** Loss, logits and d(sum loss)/d(input) of {@code f} at a detached copy of {@code at}; results in {@code out}. */
    private static LossGradient differentiate(NDArray at, NDManager out,
            java.util.function.Function<NDArray, NDArray> f, java.util.function.Function<NDArray, NDArray> rowLoss) {
        try (NDManager s = out.newSubManager()) {
            NDArray leaf = at.duplicate();
            leaf.attach(s);
            leaf.setRequiresGradient(true);
            NDArray loss;
            NDArray logits;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                logits = f.apply(leaf);
                loss = rowLoss.apply(logits);
                gc.backward(loss.sum());
            }
            NDArray g = leaf.getGradient().duplicate();
            NDArray l = loss.stopGradient().duplicate();
            NDArray z = logits.stopGradient().duplicate();
            l.attach(out);
            z.attach(out);
            g.attach(out);
            return new LossGradient(l, z, g);
        }
    }
}
