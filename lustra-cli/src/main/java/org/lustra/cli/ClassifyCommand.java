package org.lustra.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lustra.app.Prediction;
import org.lustra.app.Workbench;
import org.lustra.util.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "classify", mixinStandardHelpOptions = true,
        description = {"Classify image files, or every image in a folder, and print the class probabilities.",
            "Files that are not images, or not the model's size without --resize, are skipped and listed on stderr; "
                    + "the exit code is then 3."})
final class ClassifyCommand implements Callable<Integer> {
    private static final int BATCH = 256;

    @Parameters(arity = "1..*", paramLabel = "IMAGE|FOLDER", description = "Images or folders of images.")
    List<Path> inputs;

    @Option(names = {"--classifier", "--model"}, defaultValue = "classifier-resnet",
            description = "Classifier: a shipped model name, a model folder, or a TorchScript file (model.pt with "
                    + "model.json beside it) (default ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--top", defaultValue = "3", description = "Classes to show per image (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--resize", description = "Resize images that are not the model's size instead of skipping them.")
    boolean resize;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    public Integer call() {
        if (top < 1) {
            throw new IllegalArgumentException("Invalid --top " + top + ": must be at least 1.");
        }
        Common.Images images = Common.readForClassifier(model, Common.expandImages(inputs), resize);
        Common.reportSkipped(images);
        List<Integer> readable = new ArrayList<>();
        for (int i = 0; i < images.inputs().size(); i++) {
            if (images.pixels()[i] != null) {
                readable.add(i);
            }
        }
        List<Map<String, Object>> results = new ArrayList<>();
        String classifier;
        try (Workbench bench = Workbench.open(model)) {
            classifier = bench.classifier().name();
            int d = bench.imageSize();
            for (int from = 0; from < readable.size(); from += BATCH) {
                List<Integer> chunk = readable.subList(from, Math.min(readable.size(), from + BATCH));
                float[] x = new float[chunk.size() * d];
                for (int j = 0; j < chunk.size(); j++) {
                    System.arraycopy(images.pixels()[chunk.get(j)], 0, x, j * d, d);
                }
                List<Prediction> predictions = bench.classify(x, chunk.size(), top);
                for (int j = 0; j < chunk.size(); j++) {
                    results.add(record(images.inputs().get(chunk.get(j)).file(), predictions.get(j)));
                }
            }
        }
        print(classifier, results, images);
        return Common.exitCode(images);
    }

    private static Map<String, Object> record(Path file, Prediction p) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("file", file.toString());
        r.put("class", p.className());
        r.put("label", p.label());
        r.put("probabilities", p.top());
        return r;
    }

    private void print(String classifier, List<Map<String, Object>> results, Common.Images images) {
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", classifier);
            out.put("results", results);
            List<Map<String, String>> skipped = new ArrayList<>();
            images.skipped().forEach(s -> skipped.add(Map.of("file", s.input().file().toString(), "reason",
                    s.reason())));
            out.put("skipped", skipped);
            System.out.println(Json.GSON.toJson(out));
            return;
        }
        for (Map<String, Object> r : results) {
            StringBuilder sb = new StringBuilder();
            @SuppressWarnings("unchecked")
            Map<String, Double> probs = (Map<String, Double>) r.get("probabilities");
            probs.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %s %.1f%%", k, 100 * v)));
            System.out.printf("%s: %s  (%s)%n", r.get("file"), r.get("class"), sb.toString().trim());
        }
    }
}
