package org.lustra.defense;

import ai.djl.ndarray.NDArray;
import java.util.Set;

/**
 * A test-time input purifier: maps a batch of possibly adversarial images (N, C, H, W) in [0, 1] to purified images
 * of the same shape in [0, 1]. Randomised purifiers draw every random number from {@code seed}, so a call can be
 * replayed exactly. The result belongs to the manager of {@code x}.
 */
public interface Purifier {

    String name();

    /** The gradient modes an attack may use through this purifier. */
    Set<GradientMode> gradientModes();

    /** True when two calls with different seeds can give different outputs. */
    boolean randomized();

    NDArray purify(NDArray x, long seed);
}
