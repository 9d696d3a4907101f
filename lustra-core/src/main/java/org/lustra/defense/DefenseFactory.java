package org.lustra.defense;

import java.util.ArrayList;
import java.util.List;
import org.lustra.diffusion.DiffusionConfig;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.model.Classifier;
import org.lustra.util.LustraException;

/**
 * Builds purifiers from {@link DefenseSpec}s and owns the one diffusion model they share (loaded on first need, closed
 * with the factory). Purifiers are stateless between calls, so one factory may serve a whole experiment.
 */
public final class DefenseFactory implements AutoCloseable {
    private final String diffusionModelName;
    private DiffusionModel model;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    /** A factory whose diffusion defences run on the default model, {@value DiffusionModel#DEFAULT}. */
    public DefenseFactory() {
        this(DiffusionModel.DEFAULT);
    }

    /**
     * A factory whose diffusion defences run on {@code diffusionModel} (a name under models/ or a directory), e.g. a
     * newer model being evaluated before it becomes the shipped one; loaded on first need.
     */
    public DefenseFactory(String diffusionModel) {
        if (diffusionModel == null || diffusionModel.isBlank()) {
            throw new IllegalArgumentException("Missing diffusion model name; use e.g. " + DiffusionModel.DEFAULT);
        }
        this.diffusionModelName = diffusionModel;
    }

    /** The diffusion model this factory loads (its name or directory as given). */
    public String diffusionModelName() {
        return diffusionModelName;
    }

    /**
     * The models whose weights the purifier of {@code spec} defending {@code classifier} (a name, for the calibration)
     * loads, by name or directory: this factory's diffusion model if the defence runs on it, then the defence's own
     * trained models — of the spec {@link #create(DefenseSpec, Classifier)} builds, after calibration (a calibrated
     * spec may name other models than the bare one). The protected classifier is not listed. Loads nothing; a run's
     * manifest records the SHA-256 of each.
     */
    public List<String> models(DefenseSpec spec, String classifier) {
        DefenseSpec resolved = Calibrations.resolve(spec, classifier);
        List<String> out = new ArrayList<>();
        if (resolved.usesDiffusionModel()) {
            out.add(diffusionModelName);
        }
        out.addAll(resolved.trainedModels());
        return out;
    }

    /** The purifier of {@code spec} ({@link Identity} for {@code none}). */
    public Purifier create(DefenseSpec spec) {
        return owned(spec.build(this::diffusionModel));
    }

    /**
     * The purifier of {@code spec} defending {@code classifier}: specs that read the protected classifier (hetero's
     * attention mask) need this form; the others ignore the classifier. A bare {@code dw}, {@code fnc}, {@code sac} or
     * {@code jedi} becomes the spec calibrated for this classifier, if any ({@link Calibrations}). The classifier is not
     * owned by the factory.
     */
    public Purifier create(DefenseSpec spec, Classifier classifier) {
        DefenseSpec resolved = Calibrations.resolve(spec, classifier.name());
        // specs that cannot defend this classifier refuse here, before any model is loaded
        Purifier p = resolved.build(this::diffusionModel, classifier);
        if (resolved.usesDiffusionModel()) {
            requireDiffusionShape(resolved, classifier);
        }
        return owned(p);
    }

    /**
     * The diffusion model purifies images of one shape; a user's classifier of another shape (a TorchScript file
     * declaring 3x32x32, say) would otherwise fail deep inside the UNet with an engine message.
     */
    private void requireDiffusionShape(DefenseSpec spec, Classifier classifier) {
        DiffusionConfig d = diffusionModel().config();
        if (d.channels() != classifier.channels() || d.size() != classifier.size()) {
            throw new LustraException("The defence '" + spec.text() + "' runs the shipped diffusion model on "
                    + d.channels() + "x" + d.size() + "x" + d.size() + " images but " + classifier.name() + " takes "
                    + classifier.channels() + "x" + classifier.size() + "x" + classifier.size() + "; protect it with "
                    + "a defence that works at any size (jpeg:75, median:3, bits:4).");
        }
    }

    /** Purifiers that hold their own weights (maep, disco) are closed with the factory. */
    private synchronized Purifier owned(Purifier p) {
        if (p instanceof AutoCloseable c) {
            closeables.add(c);
        }
        return p;
    }

    /** The purifier of a spec string; parse errors are one sentence naming the accepted forms. */
    public Purifier create(String spec) {
        return create(DefenseSpec.parse(spec));
    }

    /** The shared diffusion model, loaded on first call; owned by this factory. */
    public synchronized DiffusionModel diffusionModel() {
        if (model == null) {
            model = DiffusionModel.load(diffusionModelName);
        }
        return model;
    }

    /**
     * Closes the purifiers that own weights and the diffusion model if it was loaded; purifiers built here must not be
     * used afterwards.
     */
    @Override
    public synchronized void close() {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("Could not close " + c, e);
            }
        }
        closeables.clear();
        if (model != null) {
            model.close();
            model = null;
        }
    }
}
