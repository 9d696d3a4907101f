package org.lustra.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.Calibrations;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.PatchRemovalSpecs;
import org.lustra.eval.calibration.Calibration;
import org.lustra.eval.calibration.Calibrator;
import org.lustra.eval.masks.PatchedImages;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lustra calibrate DEFENCE}: chooses the thresholds of DW, FNC, the SAC-like defence or Jedi on data/validation
 * images the SAC segmenter and Jedi's autoencoder never trained on (from {@code --first}), by the rule of
 * {@link Calibrator.Rule}, and writes the choice with every candidate's measurements to
 * {@code docs/results/calibration/KEY.json}, which makes it the default of the bare spec for that classifier.
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = {"Choose a defence's thresholds on data/validation: DEFENCE is dw, fnc, sac[:NAME] or "
                + "jedi[:NAME|:morph]. Every candidate of a fixed grid is run on clean validation images and on the "
                + "same images with patches made by --attack against the bare classifier; the admissible candidates "
                + "lose at most --max-drop of clean accuracy (and, for masking defences, mask at most --max-clean-mask "
                + "of a clean image's pixels); the best mask IoU (FNC: the best patched accuracy) wins.",
            "Writes docs/results/calibration/KEY.json (KEY names the defence, its model and the classifier); the bare "
                + "spec (dw, fnc, sac, jedi) then means the chosen one in eval run, purify, serve and attack.",
            "hetero: sweeps the product of --noise x --norms x --thresholds x --resampling x --stages x --members x "
                + "--aggregation on clean validation images and on the same images after PGD made against the bare "
                + "classifier (a non-adaptive transfer proxy, not adaptive robustness); --reference defences (e.g. "
                + "diffpure:0.1:ddim10) are measured beside them; admissible: at most --max-drop below the undefended "
                + "clean accuracy, or below a reference's with --relative-to; chosen: the best transfer accuracy. "
                + "Resumable (a journal under the checkpoint folder); writes hetero-MODEL-CLASSIFIER.json and .md. "
                + "It does not change hetero's defaults by itself."})
final class CalibrateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DEFENCE", description = "dw, fnc, sac[:NAME], jedi[:NAME|:morph] or "
            + "hetero (a validation sweep of its defaults: options marked 'hetero:').")
    String defence;

    @picocli.CommandLine.Mixin
    CalibrateHetero.Options hetero;

    @Option(names = "--classifier", description = "Protected classifier (default ${DEFAULT-VALUE}).",
            defaultValue = "classifier-resnet")
    String classifier;

    @Option(names = "--images", description = "Validation images (default ${DEFAULT-VALUE}).", defaultValue = "256")
    int images;

    @Option(names = "--first", description = "First validation image used (default ${DEFAULT-VALUE}: the first of "
            + "the 1000 that train sac/jedi hold out).", defaultValue = "4000")
    int first;

    @Option(names = "--attack", description = "Patch attack making the patched images: lavan, advp or gdpa (default "
            + "${DEFAULT-VALUE}).", defaultValue = "lavan")
    String attack;

    @Option(names = "--fraction", description = "Patch area share (default ${DEFAULT-VALUE}).", defaultValue = "0.05")
    double fraction;

    @Option(names = "--steps", description = "Attack iterations (default: the quick profile's).")
    Integer steps;

    @Option(names = "--max-drop", description = "Largest admissible clean accuracy drop (default ${DEFAULT-VALUE}).",
            defaultValue = "0.01")
    double maxDrop;

    @Option(names = "--max-clean-mask", description = "Largest admissible masked share of a clean image (default "
            + "${DEFAULT-VALUE}).", defaultValue = "0.02")
    double maxCleanMask;

    @Option(names = "--seed", description = "Seed of the patch attack (default ${DEFAULT-VALUE}).", defaultValue = "1")
    long seed;

    @Option(names = "--out", description = "Output folder (default: docs/results/calibration).")
    Path out;

    @Override
    public Integer call() {
        ImageSet validation = Subsets.load("validation");
        if (images < 1 || first < 0 || first + images > validation.size()) {
            throw new LustraException("--first " + first + " and --images " + images + " must select images within "
                    + "the " + validation.size() + " of data/validation.");
        }
        if (defence.equals("hetero")) {
            try (NetClassifier c = ModelStore.loadClassifier(classifier)) {
                return CalibrateHetero.run(this, hetero, validation, c);
            }
        }
        DefenseSpec bare = canonical(DefenseSpec.parse(defence));
        Calibrator.Rule rule = new Calibrator.Rule(maxDrop, maxCleanMask);
        try (NetClassifier c = ModelStore.loadClassifier(classifier); DefenseFactory factory = new DefenseFactory()) {
            String key = Calibrations.key(bare, c.name()).orElseThrow(() -> new LustraException("Only dw, fnc, "
                    + "sac[:NAME] and jedi[:NAME|:morph] without options can be calibrated; got '" + defence + "'."));
            int[] indices = IntStream.range(first, first + images).toArray();
            ImageSet calib = validation.subset(indices);
            ImageSet patchTraining = validation.subset(IntStream.range(0, Math.min(2000, first)).toArray());
            System.out.printf(Locale.ROOT, "Calibrating %s for %s on data/validation images %d..%d (%s patches)%n",
                    bare.text(), c.name(), first, first + images - 1, attack);
            PatchedImages data = PatchedImages.make(c, validation, indices, attack, fraction, steps, seed,
                    patchTraining, LustraHome.checkpoints().resolve("calibration"));
            List<String> grid = Calibrator.candidates(bare, c, calib);
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("images", String.format(Locale.ROOT, "data/validation images %d..%d (clean, and the same with a "
                    + "patch)", first, first + images - 1));
            info.put("count", images);
            info.put("patches", data.attack());
            if (attack.equals("advp")) {
                info.put("advp_training_images", "data/validation images 0.." + (Math.min(2000, first) - 1));
            }
            String command = String.format(Locale.ROOT, "lustra calibrate %s --classifier %s --images %d --first %d "
                    + "--attack %s --fraction %s%s --max-drop %s --max-clean-mask %s --seed %d", defence, classifier,
                    images, first, attack, fraction, steps == null ? "" : " --steps " + steps, maxDrop, maxCleanMask,
                    seed);
            Calibration cal = Calibrator.run(bare, key, grid, c, data, info, rule, factory, command, seed,
                    System.out::println);
            Path dir = out != null ? out : Calibrations.dir();
            Path file = dir.resolve(key + ".json");
            Json.writeAtomically(file, cal);
            System.out.println(cal.ruleMet() ? "Chose " + cal.chosenSpec() + "; wrote " + file
                    + (out == null ? " (now the default of '" + defence + "' for " + c.name() + ")" : "")
                    : "No candidate met the rule; wrote " + file + " for the record, and the placeholders stay the "
                    + "default (the least bad candidate was " + cal.chosenSpec() + ").");
        }
        return 0;
    }

    /** {@code jedi} as the variant it resolves to ({@code jedi:NAME} or {@code jedi:morph}); others as given. */
    private static DefenseSpec canonical(DefenseSpec spec) {
        if (spec instanceof PatchRemovalSpecs.JediSpec j && j.text().equals("jedi")) {
            return DefenseSpec.parse(j.model() == null ? "jedi:morph" : "jedi:" + j.model());
        }
        return spec;
    }
}
