package org.lustra.defense;

import ai.djl.ndarray.NDArray;
import org.lustra.model.Classifier;

/**
 * A classifier behind a purifier: logits(x) = classifier(purify(x)). How an attacker's gradient passes the purifier is
 * part of every call, because a robustness number means nothing without it (SPEC §7):
 * <ul>
 *   <li>{@link GradientMode#EXACT}: autograd through the purification (only for differentiable purifiers);</li>
 *   <li>{@link GradientMode#BPDA}: forward through the purifier, backward as the identity —
 *       x + stopGradient(purify(x) − x) (Athalye et al., 2018).</li>
 * </ul>
 * EOT, K-sample voting and the other modes arrive with the evaluation harness (step 3).
 */
public final class DefendedClassifier {
    private final Purifier purifier;
    private final Classifier classifier;

    public DefendedClassifier(Purifier purifier, Classifier classifier) {
        this.purifier = purifier;
        this.classifier = classifier;
    }

    public Purifier purifier() {
        return purifier;
    }

    public Classifier classifier() {
        return classifier;
    }

    public String name() {
        return purifier.name() + " -> " + classifier.name();
    }

    /** Logits of the defended model; owned by {@code x}'s manager. */
    public NDArray logits(NDArray x, GradientMode mode, long seed) {
        if (!purifier.gradientModes().contains(mode)) {
            throw new IllegalArgumentException("Purifier " + purifier.name() + " does not support gradient mode "
                    + mode + " (it supports " + purifier.gradientModes() + ")");
        }
        return switch (mode) {
            case EXACT -> classifier.logits(purifier.purify(x, seed));
            case BPDA -> {
                NDArray purified = purifier.purify(x.stopGradient(), seed);
                yield classifier.logits(x.add(purified.sub(x).stopGradient()));
            }
            default -> throw new IllegalArgumentException("Gradient mode " + mode + " is not implemented yet");
        };
    }
}
