package org.lustra.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lustra.attack.AttackModel;
import org.lustra.data.ImageFiles;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.MaskingPurifier;
import org.lustra.defense.Purifier;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.Files2;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "purify", mixinStandardHelpOptions = true,
        description = {"Purify image files (or every image in a folder) with a defence and write the purified PNGs,",
            "DIFFender's masks and anomaly maps, and the classifier's predictions before and after."})
final class PurifyCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "IMAGE|FOLDER", description = "Images or folders of images.")
    List<Path> inputs;

    @Option(names = "--out", required = true, description = "Output folder (created if missing).")
    Path out;

    @Option(names = "--defense", defaultValue = "diffender", description = {"Purifier (default ${DEFAULT-VALUE}): "
        + "diffender[:ep|:mp][:rec][:nr][:ddimN][:thetaX][:gX][:abarX], diffpure:T[:ddimN], jpeg:Q, median:K, "
        + "bits:B, lgs."})
    String defense;

    @Option(names = "--model", defaultValue = "classifier-resnet", description = "Classifier for the predictions "
            + "(default ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the purifier's noise (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--resize", description = "Resize images that are not the model's size instead of failing.")
    boolean resize;

    @Override
    public Integer call() throws Exception {
        DefenseSpec spec = DefenseSpec.parse(defense);
        List<Path> files = Common.expandImages(inputs);
        Common.Images images = Common.readForClassifier(model, files, resize);
        float[] all = images.pixels();
        int ch = images.channels();
        int size = images.size();
        int d = images.imageSize();
        if (spec.none()) {
            throw new LustraException("--defense none purifies nothing; choose a defence, e.g. diffender");
        }
        try (DefenseFactory defenses = new DefenseFactory()) {
            purify(defenses.create(spec), files, all, ch, size, d);
        }
        return 0;
    }

    private void purify(Purifier p, List<Path> files, float[] all, int ch, int size, int d) throws IOException {
        Files.createDirectories(out);
        List<Map<String, Object>> results = new ArrayList<>();
        Progress progress = new Progress("purify", files.size(), "images");
        try (NetClassifier c = ModelStore.loadClassifier(model); NDManager nd = NDManager.newBaseManager()) {
            for (int from = 0; from < files.size(); from += 64) {
                int to = Math.min(files.size(), from + 64);
                int n = to - from;
                try (NDManager m = nd.newSubManager()) {
                    NDArray x = m.create(java.util.Arrays.copyOfRange(all, from * d, to * d), new Shape(n, ch, size,
                            size));
                    NDArray purified;
                    float[] masks = null;
                    float[] anomaly = null;
                    if (p instanceof MaskingPurifier mp) {
                        MaskingPurifier.Masked r = mp.purifyMasked(x, seed + from);
                        purified = r.purified();
                        masks = r.mask().toFloatArray();
                        anomaly = r.anomaly().toFloatArray();
                    } else {
                        purified = p.purify(x, seed + from);
                    }
                    float[] before = c.logits(x).softmax(1).toFloatArray();
                    float[] after = c.logits(purified).softmax(1).toFloatArray();
                    float[] px = purified.toFloatArray();
                    int k = c.classes();
                    for (int i = 0; i < n; i++) {
                        Path f = files.get(from + i);
                        String base = f.getFileName().toString().replaceFirst("\\.[^.]+$", "");
                        Path purePng = out.resolve(base + ".purified.png");
                        ImageFiles.write(purePng, java.util.Arrays.copyOfRange(px, i * d, (i + 1) * d), ch, size, size);
                        Map<String, Object> r = new LinkedHashMap<>();
                        r.put("file", f.toString());
                        r.put("purified", purePng.toString());
                        int b = AttackModel.argMax(before, i, k);
                        int a = AttackModel.argMax(after, i, k);
                        r.put("before", Map.of("class", c.classNames().get(b), "probability", round(before[i * k + b])));
                        r.put("after", Map.of("class", c.classNames().get(a), "probability", round(after[i * k + a])));
                        if (masks != null) {
                            int hw = size * size;
                            float[] mk = java.util.Arrays.copyOfRange(masks, i * hw, (i + 1) * hw);
                            float[] an = java.util.Arrays.copyOfRange(anomaly, i * hw, (i + 1) * hw);
                            float max = 1e-12f;
                            int area = 0;
                            for (int j = 0; j < hw; j++) {
                                max = Math.max(max, an[j]);
                                area += mk[j] > 0.5f ? 1 : 0;
                            }
                            for (int j = 0; j < hw; j++) {
                                an[j] /= max;
                            }
                            Path maskPng = out.resolve(base + ".mask.png");
                            Path anomalyPng = out.resolve(base + ".anomaly.png");
                            ImageFiles.write(maskPng, mk, 1, size, size);
                            ImageFiles.write(anomalyPng, an, 1, size, size);
                            r.put("mask", maskPng.toString());
                            r.put("anomaly", anomalyPng.toString());
                            r.put("maskedFraction", round((double) area / hw));
                        }
                        results.add(r);
                        System.out.printf("%s: %s -> %s%s%n", f, c.classNames().get(b), c.classNames().get(a),
                                masks == null ? "" : String.format(java.util.Locale.ROOT, "  (mask %.1f%% of the "
                                        + "image)", 100 * (double) r.get("maskedFraction")));
                    }
                }
                progress.update(to, defense);
            }
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("defense", p.name());
            report.put("classifier", c.name());
            report.put("seed", seed);
            report.put("results", results);
            Files2.writeAtomically(out.resolve("predictions.json"),
                    Json.GSON.toJson(report).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        progress.finish(files.size(), "done");
        System.out.println("Wrote " + files.size() + " purified image(s) and predictions.json to " + out);
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }
}
