package org.lustra.defense.learned;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Purifier;

/**
 * A trained {@link PurifierNetwork} as a purifier: one deterministic pass, clamped to [0, 1] (SPEC §6). It is a plain
 * differentiable function of its input, so an adaptive attacker gets the EXACT gradient by ordinary backpropagation —
 * the white-box evaluation the MAEP paper never ran; BPDA is offered for comparison. Owns the network: close it (the
 * {@code DefenseFactory} does) when done.
 */
public final class LearnedPurifier implements Purifier, AutoCloseable {
    private static final Set<GradientMode> MODES = Collections.unmodifiableSet(EnumSet.of(GradientMode.EXACT,
            GradientMode.BPDA));

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
        long[] s = x.getShape().getShape();
        if (s.length != 4 || s[1] != network.channels() || s[2] != network.size() || s[3] != network.size()) {
            throw new IllegalArgumentException("The " + network.kind() + " purifier " + name + " takes (N, "
                    + network.channels() + ", " + network.size() + ", " + network.size() + ") images, got "
                    + x.getShape());
        }
        try (NDManager scope = x.getManager().newSubManager()) {
            scope.tempAttachAll(x);
            return scope.ret(network.reconstruct(new ParameterStore(scope, false), x).clip(0f, 1f));
        }
    }

    @Override
    public void close() {
        network.close();
    }
}
