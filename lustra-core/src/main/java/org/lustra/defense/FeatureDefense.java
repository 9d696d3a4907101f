package org.lustra.defense;

import org.lustra.model.Classifier;

/**
 * A defence that lives inside the classifier instead of in front of it (feature norm clipping). Its input stage is the
 * identity ({@code purify(x) = x}) and {@link #defend} gives the classifier with the defence built in; a
 * {@link DefendedClassifier} over it sends images to that classifier, so the harness, the CLI and every gradient mode
 * see the defended model, while {@link DefendedClassifier#classifier()} stays the bare one that non-adaptive attacks
 * target. Its gradients are the defended classifier's own (EXACT); BPDA through the identity input stage is the same
 * gradient.
 */
public interface FeatureDefense extends Purifier {

    /** {@code classifier} with this defence inside; it shares (and does not close) {@code classifier}'s weights. */
    Classifier defend(Classifier classifier);
}
