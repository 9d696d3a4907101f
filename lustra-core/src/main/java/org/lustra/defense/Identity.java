package org.lustra.defense;

import ai.djl.ndarray.NDArray;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * No defence: purify(x) = x. It is what the spec {@code none} builds, so "undefended" is a value and never
 * {@code null}. A {@link DefendedClassifier} over it is the bare classifier: it does not call {@link #purify} at
 * all, so undefended numbers are those of the classifier alone in every gradient mode it offers.
 */
public final class Identity implements Purifier {
    /** The one instance. */
    public static final Identity INSTANCE = new Identity();

    private static final Set<GradientMode> MODES = Collections.unmodifiableSet(EnumSet.of(GradientMode.EXACT,
            GradientMode.BPDA));

    private Identity() {}

    @Override
    public String name() {
        return "none";
    }

    @Override
    public Set<GradientMode> gradientModes() {
        return MODES;
    }

    @Override
    public boolean randomized() {
        return false;
    }

    /** Returns {@code x} itself (owned by its own manager, as the contract asks). */
    @Override
    public NDArray purify(NDArray x, long seed) {
        return x;
    }
}
