package org.lustra.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.MaskingPurifier;
import org.lustra.defense.Purifier;
import org.lustra.eval.masks.MaskEvaluation;
import org.lustra.eval.masks.MaskQuality;
import org.lustra.eval.masks.PatchedImages;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.Files2;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lustra eval masks}: mask IoU/precision/recall of masking defences against the true patch masks. */
@Command(name = "masks", mixinStandardHelpOptions = true,
        description = {"Mask quality of masking defences (dw, sac, jedi, jedi:morph, diffender…) against the true "
                + "masks of the harness's patch attacks (lavan, advp, gdpa) made against the bare classifier on the "
                + "first --images of --subset: mean IoU, precision, recall, the masked share of the same images clean, "
                + "and accuracies. Writes report.json and report.md to --out."})
final class MaskQualityCommand implements Callable<Integer> {
    @Option(names = "--defenses", split = ",", description = "Masking defences (default ${DEFAULT-VALUE}).",
            defaultValue = "dw,sac,jedi,jedi:morph")
    List<String> defenses;

    @Option(names = "--attacks", split = ",", description = "Patch attacks (default ${DEFAULT-VALUE}).",
            defaultValue = "lavan,advp,gdpa")
    List<String> attacks;

    @Option(names = "--classifier", description = "Classifier (default ${DEFAULT-VALUE}).",
            defaultValue = "classifier-resnet")
    String classifier;

    @Option(names = "--subset", description = "Images (default ${DEFAULT-VALUE}).", defaultValue = "eval512")
    String subset;

    @Option(names = "--images", description = "First N images of the subset (default ${DEFAULT-VALUE}).",
            defaultValue = "64")
    int images;

    @Option(names = "--fraction", description = "Patch area share (default ${DEFAULT-VALUE}).", defaultValue = "0.05")
    double fraction;

    @Option(names = "--steps", description = "Attack iterations (default: the quick profile's).")
    Integer steps;

    @Option(names = "--full-length", description = "Run every attack iteration and keep the best objective (as the "
            + "harness's non-adaptive cells against DIFFender or DiffPure) instead of stopping each image at its first "
            + "success on the classifier.")
    boolean fullLength;

    @Option(names = "--seed", description = "Seed of the attacks and purifiers (default ${DEFAULT-VALUE}).",
            defaultValue = "1")
    long seed;

    @Option(names = "--out", description = "Output folder (default ${DEFAULT-VALUE}).",
            defaultValue = "docs/results/mask-quality")
    Path out;

    @Override
    public Integer call() {
        ImageSet set = Subsets.load(subset);
        if (images < 1 || images > set.size()) {
            throw new LustraException("--images must be in 1.." + set.size() + " for " + subset + ".");
        }
        List<DefenseSpec> specs = defenses.stream().map(DefenseSpec::parse).toList();
        int[] indices = IntStream.range(0, images).toArray();
        // AdvP's universal patch trains on validation images (never the evaluated ones)
        ImageSet validation = Subsets.load("validation");
        ImageSet patchTraining = validation.subset(IntStream.range(0, 2000).toArray());
        List<MaskQuality.Row> rows = new ArrayList<>();
        try (NetClassifier c = ModelStore.loadClassifier(classifier); DefenseFactory factory = new DefenseFactory()) {
            List<MaskingPurifier> purifiers = new ArrayList<>();
            for (DefenseSpec s : specs) {
                Purifier p = factory.create(s, c);
                if (!(p instanceof MaskingPurifier mp)) {
                    throw new LustraException("'" + s.text() + "' does not report a mask; use masking defences (dw, "
                            + "sac, jedi, diffender…).");
                }
                purifiers.add(mp);
            }
            List<PatchedImages> sets = new ArrayList<>();
            for (String a : attacks) {
                System.out.printf(Locale.ROOT, "Attacking %d %s images with %s%n", images, subset, a);
                sets.add(PatchedImages.make(c, set, indices, a, fraction, steps, seed, patchTraining,
                        LustraHome.checkpoints().resolve("mask-quality"), fullLength));
            }
            for (int k = 0; k < specs.size(); k++) {
                PatchedImages first = sets.get(0);
                MaskEvaluation clean = MaskEvaluation.run(purifiers.get(k), c, first.clean(), first.labels(), null,
                        first.shape(), seed);
                for (PatchedImages data : sets) {
                    MaskQuality.Row r = MaskQuality.row(specs.get(k).text(), purifiers.get(k), c, data, clean, seed);
                    System.out.printf(Locale.ROOT, "%-24s %-6s IoU %s precision %s recall %s clean masked %.2f %%%n",
                            r.defence(), data.attack().split(":")[0], r.patched().get("iou"),
                            r.patched().get("precision"), r.patched().get("recall"), 100 * r.cleanMaskedShare());
                    rows.add(r);
                }
            }
            MaskQuality report = new MaskQuality(c.name(), String.format(Locale.ROOT, "first %d images of %s, patch "
                    + "area %.1f %%", images, subset, 100 * fraction), seed, rows);
            Json.writeAtomically(out.resolve("report.json"), report);
            Files2.writeAtomically(out.resolve("report.md"), report.markdown().getBytes(StandardCharsets.UTF_8));
            System.out.println("Wrote " + out.resolve("report.md") + " and report.json");
        }
        return 0;
    }
}
