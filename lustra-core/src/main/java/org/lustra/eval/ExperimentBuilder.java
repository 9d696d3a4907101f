package org.lustra.eval;

import java.util.Arrays;
import java.util.List;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.util.LustraException;

/**
 * DJL-style builder: the name and classifier are given to {@link Experiment#builder}, every other setting is an
 * {@code opt…} call, and {@code null} leaves a setting absent (its default). A config needs at least one attack;
 * without {@link #optAttacks} {@link #build} says so, as it does for a JSON config without "attacks".
 */
public final class ExperimentBuilder {
    private final String name;
    private final String classifier;
    private String subset;
    private Integer images;
    private String profile;
    private List<Long> seeds;
    private List<String> defenses;
    private List<String> modes;
    private List<Experiment.AttackConfig> attacks;
    private Integer batch;
    private String gradient;
    private String diffusion;
    private Boolean paired;
    private Boolean fullLength;
    private Boolean skipFooled;

    ExperimentBuilder(String name, String classifier) {
        this.name = name;
        this.classifier = classifier;
    }

    public ExperimentBuilder optSubset(String value) {
        subset = value;
        return this;
    }

    public ExperimentBuilder optImages(Integer value) {
        images = value;
        return this;
    }

    public ExperimentBuilder optProfile(String value) {
        profile = value;
        return this;
    }

    public ExperimentBuilder optSeeds(List<Long> values) {
        seeds = values;
        return this;
    }

    public ExperimentBuilder optSeeds(long... values) {
        return optSeeds(Arrays.stream(values).boxed().toList());
    }

    public ExperimentBuilder optDefenses(List<String> specs) {
        defenses = specs;
        return this;
    }

    public ExperimentBuilder optDefenses(String... specs) {
        return optDefenses(List.of(specs));
    }

    public ExperimentBuilder optModes(List<String> values) {
        modes = values;
        return this;
    }

    public ExperimentBuilder optModes(String... values) {
        return optModes(List.of(values));
    }

    public ExperimentBuilder optAttacks(List<Experiment.AttackConfig> values) {
        attacks = values;
        return this;
    }

    public ExperimentBuilder optAttacks(Experiment.AttackConfig... values) {
        return optAttacks(List.of(values));
    }

    public ExperimentBuilder optBatch(Integer value) {
        batch = value;
        return this;
    }

    public ExperimentBuilder optGradient(String value) {
        gradient = value;
        return this;
    }

    /** Absent: the shipped diffusion model ({@link DiffusionModel#UNNAMED_IN_CONFIGS}), and no field. */
    public ExperimentBuilder optDiffusion(String model) {
        diffusion = model;
        return this;
    }

    /** Absent or false: each cell draws its own randomness. */
    public ExperimentBuilder optPaired(Boolean value) {
        paired = value;
        return this;
    }

    /** Absent or false: undefended cells and non-adaptive cells of a deterministic defence may stop early. */
    public ExperimentBuilder optFullLength(Boolean value) {
        fullLength = value;
        return this;
    }

    /** Absent or false: every route of a worst-of cell attacks every image. */
    public ExperimentBuilder optSkipFooled(Boolean value) {
        skipFooled = value;
        return this;
    }

    /** @throws LustraException naming the bad setting and the fix, as a config read from JSON would */
    public Experiment build() {
        return new Experiment(name, classifier, subset, images, profile, seeds, defenses, modes, attacks, batch,
                gradient, diffusion, paired, fullLength, skipFooled);
    }
}
