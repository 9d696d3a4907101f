package org.lustra.defense.learned;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.lustra.defense.GradientMode;
import org.lustra.defense.ThresholdedPurifier;

/**
 * A trained {@link PurifierNetwork} as a purifier: one deterministic pass, clamped to [0, 1] (SPEC §6). It is a plain
 * differentiable function of its input, so an adaptive attacker gets the EXACT gradient by ordinary backpropagation —
 * the white-box evaluation the MAEP paper never ran; BPDA is offered for comparison.
 *
 * <p>STE passes the final clamp straight through. Why: the clamp's derivative is 0 wherever the network's output
 * leaves [0, 1], and on Fashion-MNIST that is much of the exactly-black background (measured 2 December: maep-fmnist
 * puts 45 % of eval512's black pixels a little below 0), the very pixels the classifier is most sensitive to (a
 * brightness lift of the background costs it up to 78 points).
 * EXACT is the true gradient of the defence, and it cannot see that direction; STE can. Owns the network: close it
 * (the {@code DefenseFactory} does) when done.
 */
public final class LearnedPurifier implements ThresholdedPurifier, AutoCloseable {
    private static final Set<GradientMode> MODES = Collections.unmodifiableSet(EnumSet.of(GradientMode.EXACT,
            GradientMode.STE, GradientMode.BPDA));

    private final String name;
    private final PurifierNetwork network;

    /** Takes ownership of {@code network}. */
    public LearnedPurifier(String name, PurifierNetwork network) {
        this.name = name;
        this.network = network;
    }

    @Override
    public String name() {
        return name;
    }

    public PurifierNetwork network() {
        return network;
    }

    @Override
    public Set<GradientMode> gradientModes() {
        return MODES;
    }

    @Override
    public boolean randomized() {
        return false;
    }

    /** The purified images; {@code seed} is unused (the pass is deterministic). Owned by x's manager. */
    @Override
    public NDArray purify(NDArray x, long seed) {
        return reconstruct(x, false);
    }

    /** Equal to {@link #purify}; the clamp to [0, 1] has derivative 1 everywhere (see the class comment). */
    @Override
    public NDArray purifyForAttack(NDArray x, long seed) {
        return reconstruct(x, true);
    }

    @Override
    public String straightThrough() {
        return "exact through the network, the clamp to [0, 1] passed straight through";
    }

    private NDArray reconstruct(NDArray x, boolean straightThroughClamp) {
        long[] s = x.getShape().getShape();
        if (s.length != 4 || s[1] != network.channels() || s[2] != network.size() || s[3] != network.size()) {
            throw new IllegalArgumentException("The " + network.kind() + " purifier " + name + " takes (N, "
                    + network.channels() + ", " + network.size() + ", " + network.size() + ") images, got "
                    + x.getShape());
        }
        try (NDManager scope = x.getManager().newSubManager()) {
            scope.tempAttachAll(x);
            NDArray raw = network.reconstruct(new ParameterStore(scope, false), x);
            NDArray clamped = raw.clip(0f, 1f);
            return scope.ret(straightThroughClamp ? raw.add(clamped.sub(raw).stopGradient()) : clamped);
        }
    }

    @Override
    public void close() {
        network.close();
    }
}
