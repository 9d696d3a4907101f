package org.lustra.cli;

import java.util.Locale;
import java.util.concurrent.Callable;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.DiffenderSpec;
import org.lustra.defense.diffender.Diffender;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.eval.localization.CleanMasking;
import org.lustra.util.LustraException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "clean-mask", mixinStandardHelpOptions = true,
        description = {"Share of pixels a DIFFender variant masks (and so repaints) on clean images: mean, max and "
                + "how many images exceed 10 %%. The mask is the one 'lustra purify' uses with the same seed and "
                + "chunk; the restoration is not run."})
final class CleanMaskEval implements Callable<Integer> {
    @Option(names = "--defense", defaultValue = DefenseSpec.DIFFENDER_DEFAULT,
            description = "A diffender spec (default ${DEFAULT-VALUE}).")
    String defense;

    @Option(names = "--model", defaultValue = DiffusionModel.DEFAULT, description = "Diffusion model (default "
            + "${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--split", defaultValue = "validation", description = "Subset (default ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--from", defaultValue = "0", description = "First image (default ${DEFAULT-VALUE}).")
    int from;

    @Option(names = "--images", defaultValue = "512", description = "Images (default ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--seed", defaultValue = "0", description = "Seed; chunk k uses seed + k (default "
            + "${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        DiffenderSpec spec = DefenseSpec.parse(defense).asDiffender().orElseThrow(
                () -> new LustraException("--defense must be a diffender spec, got '" + defense + "'."));
        ImageSet set = Subsets.load(split);
        if (images < 1 || from < 0 || from + images > set.size()) {
            throw new LustraException("--from " + from + " --images " + images + " does not fit " + split + " ("
                    + set.size() + " images).");
        }
        try (DiffusionModel dm = DiffusionModel.load(model)) {
            Diffender d = new Diffender(dm, spec.options(dm));
            CleanMasking.Result r = CleanMasking.measure(d, set, from, from + images, seed, PurifyCommand.CHUNK);
            System.out.printf(Locale.ROOT, "%s on %s %d..%d (%s): masked %.2f %% of pixels on average, max %.1f %%, "
                    + "%d of %d images above 10 %%%n", spec.text(), split, from, from + images - 1, model,
                    100 * r.mean(), 100 * r.max(), r.over10Percent(), r.images());
        }
        return 0;
    }
}
