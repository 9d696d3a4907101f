package org.lustra.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.lustra.data.FashionMnist;
import org.lustra.data.ImageFiles;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.diffpure.DiffPure;
import org.lustra.diffusion.Captions;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.DiffusionQuality;
import org.lustra.diffusion.Sampler;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.model.Predictions;
import org.lustra.util.Json;
import org.lustra.util.LustraHome;
import org.lustra.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "diffusion", mixinStandardHelpOptions = true,
        description = {"Quality of the unified diffusion model, judged by a classifier on the shipped "
                + "eval512 subset:",
            "  samples  - class-conditional samples classified as their prompt's class (+ a PNG "
                + "grid)",
            "  diffpure - clean accuracy after DiffPure for each t*",
            "  inpaint  - accuracy after inpainting one random square per image, PSNR inside the "
                + "square",
            "  x0       - PSNR of the one-step x̂0 against the noisy input, for several t",
            "  steer    - text steering: on eval images with a pasted natural occluder, how much "
                + "more the prompt \"a photo with a patch\" moves one-step x̂0 (vs the empty prompt, same "
                + "noise, abar 0.5) on the occluder than elsewhere (ratio of mean |difference| inside "
                + "/ outside)",
            "--record writes the numbers into the diffusion model's card."})
final class DiffusionEval implements Callable<Integer> {
    @Option(names = "--what", split = ",", defaultValue = "samples,diffpure,inpaint,x0,steer",
            description = "Which measurements (default ${DEFAULT-VALUE}).")
    Set<String> what;

    @Option(names = "--model", defaultValue = DiffusionModel.DEFAULT, description = "Diffusion model.")
    String model;

    @Option(names = "--judge", defaultValue = "classifier-resnet", description = "Classifier that judges.")
    String judge;

    @Option(names = "--images", defaultValue = "512", description = "eval512 images to use (default ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--samples-per-class", defaultValue = "50", description = "Default ${DEFAULT-VALUE}.")
    int perClass;

    @Option(names = "--guidance", defaultValue = "3", description = "CFG scale for samples (default ${DEFAULT-VALUE}).")
    double guidance;

    @Option(names = "--steps", defaultValue = "50", description = "DDIM steps for samples (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--t-star", split = ",", defaultValue = "0.05,0.1,0.2,0.3", description = "DiffPure levels.")
    List<Double> tStars;

    @Option(names = "--diffpure-ddim", defaultValue = "0",
            description = "DiffPure sampler: 0 = full DDPM chain (default), N = DDIM with N steps.")
    int diffpureDdim;

    @Option(names = "--square", defaultValue = "6", description = "Inpainting square side (default ${DEFAULT-VALUE}).")
    int square;

    @Option(names = "--x0-t", split = ",", defaultValue = "50,100,200,340", description = "Timesteps for x̂0 PSNR.")
    List<Integer> x0Ts;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--grid", description = "Sample grid PNG (default docs/diffusion-samples.png for the default "
            + "model, models/NAME/samples.png for any other).")
    Path grid;

    @Option(names = "--record", description = "Write the results into the model card.")
    boolean record;

    /** One measured number: the card's metric name, its value and how it was measured. */
    private record Metric(String name, double value, String how) {}

    /** What has been measured so far, and how many of those lines {@link #announce} has shown. */
    private final List<Metric> results = new ArrayList<>();
    private int reported;

    @Override
    public Integer call() {
        for (String w : what) {
            if (!Set.of("samples", "diffpure", "inpaint", "x0", "steer").contains(w)) {
                throw new IllegalArgumentException("Unknown --what '" + w + "'; use samples, diffpure, inpaint, x0, "
                        + "steer");
            }
        }
        ImageSet eval = Subsets.load("eval512");
        if (images < 1 || images > eval.size()) {
            throw new IllegalArgumentException("Invalid --images " + images + " (1.." + eval.size() + ")");
        }
        ImageSet set = eval.subset(java.util.stream.IntStream.range(0, images).toArray());
        Path dir = ModelStore.resolve(model);
        ModelCard card = ModelStore.readCard(dir);
        long started = System.nanoTime();
        try (DiffusionModel m = DiffusionModel.load(model); NetClassifier c = ModelStore.loadClassifier(judge)) {
            if (what.contains("samples")) {
                announce("samples", started);
                samples(m, c, dir);
            }
            if (what.contains("diffpure")) {
                for (double t : tStars) {
                    announce(String.format(Locale.ROOT, "diffpure t* %.2f", t), started);
                    diffpure(m, c, set, t);
                }
            }
            if (what.contains("inpaint")) {
                announce("inpaint", started);
                inpaint(m, c, set);
            }
            if (what.contains("steer")) {
                announce("steer", started);
                steer(m, set);
            }
            if (what.contains("x0")) {
                announce("x0", started);
                x0(m, set);
            }
        }
        for (Metric r : results) {
            System.out.printf(Locale.ROOT, "%-26s %10.4f  %s%n", r.name(), r.value(), r.how());
        }
        if (record) {
            ModelCard updated = card;
            for (Metric r : results) {
                updated = updated.withMetric(r.name(), r.value(), "lustra eval diffusion: " + r.how());
            }
            Json.writeAtomically(dir.resolve(ModelStore.CARD), updated);
            System.out.println("Recorded " + results.size() + " metrics in " + dir.resolve(ModelStore.CARD));
        }
        return 0;
    }

    /** Class-conditional samples judged by the classifier; writes the first (up to) 10 per class as a grid. */
    private void samples(DiffusionModel m, NetClassifier c, Path dir) {
        Captions captions = new Captions(FashionMnist.CLASSES);
        var r = DiffusionQuality.sampleAccuracy(m, c, captions, FashionMnist.CLASSES.size(), perClass,
                new Sampler.Options(steps, false, 0, guidance), seed, 50);
        // the README shows the default model's grid; another model's goes next to its weights
        Path out = grid != null ? grid : model.equals(DiffusionModel.DEFAULT)
                ? LustraHome.root().resolve("docs").resolve("diffusion-samples.png") : dir.resolve("samples.png");
        int shown = Math.min(perClass, 10);
        int image = m.config().channels() * m.config().size() * m.config().size();
        float[] sel = new float[10 * shown * image];
        for (int k = 0; k < 10; k++) {
            System.arraycopy(r.images(), k * perClass * image, sel, k * shown * image, shown * image);
        }
        ImageFiles.writeGrid(out, sel, 10 * shown, m.config().channels(), m.config().size(), m.config().size(), shown);
        StringBuilder per = new StringBuilder();
        for (int k = 0; k < 10; k++) {
            per.append(String.format(Locale.ROOT, "%s %d/%d  ", FashionMnist.CLASSES.get(k), r.correct()[k],
                    perClass));
        }
        results.add(new Metric("sample_accuracy", r.accuracy(), String.format(Locale.ROOT,
                "%d samples (%d per class), DDIM %d steps, guidance %.1f, judged by %s; grid %s; %s",
                10 * perClass, perClass, steps, guidance, judge, out, per.toString().trim())));
    }

    private void diffpure(DiffusionModel m, NetClassifier c, ImageSet set, double t) {
        DiffPure.Options o = diffpureDdim > 0 ? DiffPure.Options.ddim(t, diffpureDdim) : DiffPure.Options.ddpm(t);
        DiffPure p = new DiffPure(m, o);
        int[] pred = new DefendedClassifier(p, c).predictions(set, 64, seed);
        results.add(new Metric(String.format(Locale.ROOT, "diffpure_accuracy_t%.2f_%s", t,
                diffpureDdim > 0 ? "ddim" + diffpureDdim : "ddpm"), Predictions.accuracy(pred, set),
                p.name() + ", " + set.size() + " eval512 images, judged by " + judge + "; "
                        + Predictions.errorSummary(pred, set, c.classNames())));
    }

    private void inpaint(DiffusionModel m, NetClassifier c, ImageSet set) {
        var r = DiffusionQuality.inpaintAccuracy(m, c, set, square, "", Sampler.Options.ddim(20, 1.0), seed, 64);
        String how = square + "x" + square + " random square per image, DDIM 20, empty prompt, " + set.size()
                + " eval512 images, judged by " + judge;
        results.add(new Metric("inpaint_accuracy", r.accuracy(), how));
        results.add(new Metric("inpaint_psnr_inside_db", r.psnrInside(), how));
    }

    private void steer(DiffusionModel m, ImageSet set) {
        var r = DiffusionQuality.textSteering(m, set, "a photo with a patch", 0.5, seed, 64);
        String how = String.format(Locale.ROOT, "prompt \"%s\" vs empty prompt, one-step x0 at t=%d (abar 0.5),"
                + " same noise, %d eval512 images each with a pasted natural occluder; mean |dx0| on the "
                + "occluder / elsewhere", r.prompt(), r.t(), set.size());
        results.add(new Metric("text_steer_ratio", r.ratio(), how));
        results.add(new Metric("text_steer_images_above_1", r.fractionAbove1(), how));
        results.add(new Metric("text_steer_mean_shift", r.meanShift(), how));
    }

    private void x0(DiffusionModel m, ImageSet set) {
        for (int t : x0Ts) {
            var r = DiffusionQuality.oneStepPsnr(m, set, t, seed, 64);
            String how = "one-step x0 from x_t, empty prompt, " + set.size() + " eval512 images";
            results.add(new Metric("x0_psnr_db_t" + t, r.psnrX0(), how));
            results.add(new Metric("noisy_psnr_db_t" + t, r.psnrNoisy(), how));
        }
    }

    /**
     * One line on stderr as each part starts, with the time so far, and the results measured until then: a part takes
     * minutes to an hour on one engine thread, and the table is printed only when all are done.
     */
    private void announce(String part, long startedNanos) {
        System.err.printf(Locale.ROOT, "eval diffusion: %s, elapsed %s%n", part,
                Progress.formatDuration((System.nanoTime() - startedNanos) / 1e9));
        for (Metric r : results.subList(reported, results.size())) {
            System.err.printf(Locale.ROOT, "  %s = %.4f%n", r.name(), r.value());
        }
        reported = results.size();
    }
}
