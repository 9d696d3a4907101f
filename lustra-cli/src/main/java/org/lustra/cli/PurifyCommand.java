package org.lustra.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.lustra.app.Prediction;
import org.lustra.app.Purification;
import org.lustra.app.Workbench;
import org.lustra.data.ImageFiles;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.Purifier;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.model.ModelStore;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.Progress;
import org.lustra.util.Seed;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "purify", mixinStandardHelpOptions = true,
        description = {"Purify image files, or every image in a folder, with a defence.",
            "For each image it writes the purified PNG (and, for defences that locate a region, the mask and the "
                    + "anomaly map) under --out at the image's path relative to the inputs' common folder, so "
                    + "same-named files from different folders never overwrite each other.",
            "Each finished image adds one JSON line to predictions.jsonl (predictions before and after); rerunning "
                    + "the same command resumes an interrupted run and skips finished images.",
            "Unreadable or wrong-size files are skipped and listed on stderr; the exit code is then 3."})
final class PurifyCommand implements Callable<Integer> {
    /**
     * Images purified together. Fixed, because a purifier's noise for an image depends on its place in the batch: a
     * resumed run recomputes whole chunks and so writes exactly what an uninterrupted run would have.
     */
    static final int CHUNK = 16;
    private static final int TOP = 3;

    @Parameters(arity = "1..*", paramLabel = "IMAGE|FOLDER", description = "Images or folders of images.")
    List<Path> inputs;

    @Option(names = "--out", required = true, description = "Output folder, created if missing.")
    Path out;

    @Option(names = "--defense", defaultValue = DefenseSpec.DIFFENDER_DEFAULT,
            description = "Defence (default ${DEFAULT-VALUE}), one of: " + DefenseSpec.FORMS + ".")
    String defense;

    @Option(names = {"--classifier", "--model"}, defaultValue = "classifier-resnet",
            description = "Classifier for the predictions, and the one defended: a shipped model name, a model "
                    + "folder, or a TorchScript file with its JSON (default ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--seed", defaultValue = "0",
            description = "Seed of the purifier's noise (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--diffusion", defaultValue = DiffusionModel.DEFAULT, paramLabel = "NAME",
            description = "Diffusion model of the diffusion defences (DiffPure, DIFFender, hetero): a name under "
                    + "models/ or a model folder (default ${DEFAULT-VALUE}).")
    String diffusion;

    @Option(names = "--resize", description = "Resize images that are not the model's size instead of skipping them.")
    boolean resize;

    @Override
    public Integer call() {
        DefenseSpec spec = DefenseSpec.parse(defense);
        if (spec.none()) {
            throw new LustraException("--defense none purifies nothing; choose a defence, e.g. diffender.");
        }
        Common.requireFolder(out, "--out");
        Common.Images images = Common.readForClassifier(model, Common.expandImages(inputs), resize);
        Common.reportSkipped(images);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("defense", spec.text());
        settings.put("classifier", model);
        if (spec.usesDiffusionModel()) {
            ModelStore.resolve(diffusion); // a wrong name fails here, before the run folder records it
            settings.put(PurifyJournal.DIFFUSION, diffusion);
        }
        settings.put("seed", seed);
        settings.put("resize", resize);
        settings.put("chunk", CHUNK);
        int before;
        int done = 0;
        try (PurifyJournal journal = PurifyJournal.open(out, settings)) {
            List<Integer> todo = new ArrayList<>();
            for (int i = 0; i < images.inputs().size(); i++) {
                if (images.pixels()[i] != null && !journal.finished(images.inputs().get(i).relative())) {
                    todo.add(i);
                }
            }
            before = images.readable() - todo.size();
            if (!todo.isEmpty()) {
                done = run(spec, images, todo, journal);
            }
            writeSummary(spec, images, journal);
        }
        System.out.println("Wrote " + done + " purified image(s) to " + out
                + (before > 0 ? " (" + before + " finished earlier were skipped)" : "")
                + "; predictions in " + PurifyJournal.RECORDS + " and predictions.json.");
        return Common.exitCode(images);
    }

    private int run(DefenseSpec spec, Common.Images images, List<Integer> todo, PurifyJournal journal) {
        Set<Integer> pending = new HashSet<>(todo);
        Map<Integer, String> bases = outputBases(images.inputs());
        Progress progress = new Progress("purify", todo.size(), "images");
        int done = 0;
        try (Workbench bench = Workbench.open(model, diffusion)) {
            Purifier purifier = bench.purifier(spec);
            int d = bench.imageSize();
            for (int from = 0; from < images.inputs().size(); from += CHUNK) {
                List<Integer> batch = new ArrayList<>();
                boolean needed = false;
                for (int i = from; i < Math.min(images.inputs().size(), from + CHUNK); i++) {
                    if (images.pixels()[i] != null) {
                        batch.add(i); // finished ones too: they hold their place in the batch's noise
                        needed |= pending.contains(i);
                    }
                }
                if (!needed) {
                    continue;
                }
                float[] x = new float[batch.size() * d];
                for (int j = 0; j < batch.size(); j++) {
                    System.arraycopy(images.pixels()[batch.get(j)], 0, x, j * d, d);
                }
                long chunkSeed = Seed.of(seed).child("purify").child(from / CHUNK).value();
                Workbench.Batch result = bench.purify(purifier, x, batch.size(), chunkSeed, TOP);
                List<Map<String, Object>> records = new ArrayList<>();
                for (int j = 0; j < batch.size(); j++) {
                    int i = batch.get(j);
                    if (pending.contains(i)) {
                        records.add(write(images, i, bases.get(i), result.images().get(j), chunkSeed));
                    }
                }
                journal.append(records);
                done += records.size();
                progress.update(done, spec.text());
            }
            progress.finish(done, "done");
        }
        return done;
    }

    /** Writes one image's PNGs (atomically) and returns its record; the caller journals it after the files. */
    private Map<String, Object> write(Common.Images images, int i, String base, Purification p, long chunkSeed) {
        Common.Input in = images.inputs().get(i);
        int ch = images.channels();
        int size = images.size();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("input", in.relative());
        r.put("file", in.file().toString());
        r.put("purified", png(base + ".purified.png", p.purified(), ch, size));
        if (p.hasMask()) {
            r.put("mask", png(base + ".mask.png", p.mask(), 1, size));
            r.put("anomaly", png(base + ".anomaly.png", p.anomaly(), 1, size));
            r.put("maskedFraction", p.maskedFraction());
        }
        r.put("before", prediction(p.before()));
        r.put("after", prediction(p.after()));
        r.put("seed", chunkSeed);
        String mask = p.hasMask() ? String.format(Locale.ROOT, "  (mask %.1f%% of the image)", 100 * p.maskedFraction())
                : "";
        System.out.printf("%s: %s -> %s%s%n", in.relative(), p.before().className(), p.after().className(), mask);
        return r;
    }

    private String png(String relative, float[] pixels, int channels, int size) {
        ImageFiles.write(out.resolve(relative), pixels, channels, size, size);
        return relative;
    }

    private static Map<String, Object> prediction(Prediction p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("class", p.className());
        m.put("probability", p.probability());
        return m;
    }

    /**
     * Output names: the input's relative path without its extension, or with it when two inputs share the stem
     * ({@code x.png} and {@code x.jpg} in one folder), so no two inputs write the same file.
     */
    static Map<Integer, String> outputBases(List<Common.Input> inputs) {
        Map<String, Integer> stems = new HashMap<>();
        for (Common.Input in : inputs) {
            stems.merge(stem(in.relative()), 1, Integer::sum);
        }
        Map<Integer, String> out = new HashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            String rel = inputs.get(i).relative();
            out.put(i, stems.get(stem(rel)) > 1 ? rel : stem(rel));
        }
        return out;
    }

    private static String stem(String relative) {
        return relative.replaceFirst("\\.[^./]+$", "");
    }

    /** predictions.json: every record of the run in input order (the JSON-lines journal is the source of truth). */
    private void writeSummary(DefenseSpec spec, Common.Images images, PurifyJournal journal) {
        Map<String, Integer> order = new HashMap<>();
        for (int i = 0; i < images.inputs().size(); i++) {
            order.put(images.inputs().get(i).relative(), i);
        }
        List<Map<String, Object>> results = journal.records();
        results.sort(Comparator.comparingInt(r -> order.getOrDefault((String) r.get("input"), Integer.MAX_VALUE)));
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("defense", spec.text());
        report.put("classifier", model);
        if (spec.usesDiffusionModel()) {
            report.put("diffusion", diffusion);
        }
        report.put("seed", seed);
        report.put("results", results);
        report.put("skipped", images.skipped().stream().map(s -> Map.of("file", s.input().file().toString(),
                "reason", s.reason())).toList());
        Json.writeAtomically(out.resolve("predictions.json"), report);
    }
}
