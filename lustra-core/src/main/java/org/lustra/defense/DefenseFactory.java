package org.lustra.defense;

import org.lustra.diffusion.DiffusionModel;

/**
 * Builds purifiers from {@link DefenseSpec}s and owns the one diffusion model they share (loaded on first need, closed
 * with the factory). Purifiers are stateless between calls, so one factory may serve a whole experiment.
 */
public final class DefenseFactory implements AutoCloseable {
    /** The shipped diffusion model DiffPure and DIFFender run on. */
    public static final String DIFFUSION_MODEL = "diffusion-unified";

    private DiffusionModel model;

    /** The purifier of {@code spec} ({@link Identity} for {@code none}). */
    public Purifier create(DefenseSpec spec) {
        return spec.build(this::diffusionModel);
    }

    /** The purifier of a spec string; parse errors are one sentence naming the accepted forms. */
    public Purifier create(String spec) {
        return create(DefenseSpec.parse(spec));
    }

    /** The shared diffusion model, loaded on first call; owned by this factory. */
    public synchronized DiffusionModel diffusionModel() {
        if (model == null) {
            model = DiffusionModel.load(DIFFUSION_MODEL);
        }
        return model;
    }

    /** Closes the diffusion model if it was loaded; purifiers built on it must not be used afterwards. */
    @Override
    public synchronized void close() {
        if (model != null) {
            model.close();
            model = null;
        }
    }
}
