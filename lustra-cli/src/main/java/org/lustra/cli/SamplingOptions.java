package org.lustra.cli;

import org.lustra.diffusion.DiffusionModel;
import picocli.CommandLine.Option;

/** Options shared by the commands that run the diffusion sampler. */
final class SamplingOptions {
    @Option(names = "--steps", description = "DDIM steps (default: 50 for sample, 20 for inpaint).")
    Integer steps;

    @Option(names = "--guidance", defaultValue = "3", description = "Classifier-free guidance (default ${DEFAULT-VALUE}).")
    double guidance;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--model", defaultValue = DiffusionModel.DEFAULT, description = "Model (default ${DEFAULT-VALUE}).")
    String model;

    int steps(int fallback) {
        int s = steps != null ? steps : fallback;
        if (s < 1 || s > 1000) {
            throw new IllegalArgumentException("Invalid --steps " + s + " (1..1000)");
        }
        return s;
    }
}
