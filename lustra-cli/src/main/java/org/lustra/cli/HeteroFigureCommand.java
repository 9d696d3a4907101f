package org.lustra.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.lustra.attack.Norm;
import org.lustra.attack.Pgd;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.Purifier;
import org.lustra.defense.hetero.HeteroPurifier;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.eval.HeteroFigure;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lustra eval hetero-figure}: the seed's Fig. 5 panel for a hetero spec ({@link HeteroFigure}). */
@Command(name = "hetero-figure", mixinStandardHelpOptions = true,
        description = {"Draw a panel like seed 002's Fig. 5 for heterogeneous-noise purification: per image the input, "
                + "the attention map of every classifier stage, the mask M, the noised start x(t_l, t_s) and the "
                + "purified image, with predictions (green right, red wrong).",
            "The inputs are PGD l-inf images made against the bare classifier (--eps; 0 = clean images)."})
final class HeteroFigureCommand implements Callable<Integer> {
    @Option(names = "--defense", description = "A hetero spec (default ${DEFAULT-VALUE}).", defaultValue = "hetero")
    String defense;

    @Option(names = "--classifier", description = "Protected classifier (default ${DEFAULT-VALUE}).",
            defaultValue = "classifier-resnet")
    String classifier;

    @Option(names = "--model", description = "Diffusion model (default ${DEFAULT-VALUE}).",
            defaultValue = DiffusionModel.DEFAULT)
    String model;

    @Option(names = "--split", description = "validation or eval512 (default ${DEFAULT-VALUE}).",
            defaultValue = "validation")
    String split;

    @Option(names = "--first", description = "First image (default ${DEFAULT-VALUE}).", defaultValue = "0")
    int first;

    @Option(names = "--images", description = "Rows (default ${DEFAULT-VALUE}).", defaultValue = "4")
    int images;

    @Option(names = "--eps", description = "PGD l-inf budget, 0 for clean inputs (default ${DEFAULT-VALUE}).",
            defaultValue = "0.0313725")
    double eps;

    @Option(names = "--seed", description = "Seed of the attack's start and the purification (default "
            + "${DEFAULT-VALUE}).", defaultValue = "1")
    long seed;

    @Option(names = "--scale", description = "Up-scaling of each image (default ${DEFAULT-VALUE}).",
            defaultValue = "4")
    int scale;

    @Option(names = "--out", description = "PNG file (default docs/results/hetero-figure.png).")
    Path out;

    @Override
    public Integer call() {
        if (!split.equals("validation") && !split.equals("eval512")) {
            throw new LustraException("--split must be validation or eval512, got " + split + ".");
        }
        if (images < 1 || images > 16 || scale < 1 || scale > 16 || eps < 0 || eps >= 1) {
            throw new LustraException("--images (1..16), --scale (1..16) and --eps (0 ≤ ε < 1) out of range: "
                    + images + ", " + scale + ", " + eps + ".");
        }
        DefenseSpec spec = DefenseSpec.parse(defense);
        if (!(spec instanceof DefenseSpec.HeteroSpec)) {
            throw new LustraException("--defense must be a hetero spec (hetero[:…]), got '" + defense + "'.");
        }
        ImageSet all = Subsets.load(split);
        if (first < 0 || first + images > all.size()) {
            throw new LustraException("--first " + first + " and --images " + images + " must lie within the "
                    + all.size() + " images of " + split + ".");
        }
        ImageSet set = all.subset(IntStream.range(first, first + images).toArray());
        Path file = out != null ? out : LustraHome.root().resolve("docs/results/hetero-figure.png");
        try (NetClassifier c = ModelStore.loadClassifier(classifier);
                DefenseFactory factory = new DefenseFactory(model);
                NDManager m = NDManager.newBaseManager()) {
            Purifier p = factory.create(spec, c);
            NDArray x = set.batch(m, 0, images);
            int[] labels = set.labels();
            if (eps > 0) {
                x = Pgd.attack(c::logits, x, labels, new Pgd.Options(Norm.LINF, eps, 20, 0, true, seed))
                        .adversarial();
            }
            HeteroFigure.Panel panel = HeteroFigure.compute((HeteroPurifier) p, c, x, labels, seed);
            String title = String.format(Locale.ROOT, "%s images %d..%d, %s, %s, diffusion model %s", split, first,
                    first + images - 1, eps > 0 ? String.format(Locale.ROOT, "PGD l-inf %.4f (20 steps, against the "
                    + "bare classifier)", eps) : "clean", c.name(), model);
            HeteroFigure.write(file, panel, c.classNames(), title, scale);
            long fixed = panel.rows().stream().filter(r -> r.after() == r.label()).count();
            System.out.printf(Locale.ROOT, "Wrote %s: %d image(s), %d right after purification (%s).%n", file,
                    images, fixed, Arrays.toString(panel.rows().stream().mapToInt(HeteroFigure.Row::after).toArray()));
        }
        return 0;
    }
}
