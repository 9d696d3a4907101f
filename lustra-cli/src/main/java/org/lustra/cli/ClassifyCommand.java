package org.lustra.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lustra.data.ImageFiles;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Classify image files (or every image in a folder) and print the class probabilities.")
final class ClassifyCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "IMAGE|FOLDER", description = "Images or folders of images.")
    List<Path> inputs;

    @Option(names = "--model", defaultValue = "classifier-resnet", description = "Model (default ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--top", defaultValue = "3", description = "Classes to show per image (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--resize", description = "Resize images that are not the model's size instead of failing.")
    boolean resize;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    public Integer call() {
        if (top < 1) {
            throw new IllegalArgumentException("Invalid --top " + top + ": must be at least 1.");
        }
        List<Path> files = Common.expandImages(inputs);
        Common.Images images = Common.readForClassifier(model, files, resize);
        float[] all = images.pixels();
        int ch = images.channels();
        int size = images.size();
        try (NetClassifier c = ModelStore.loadClassifier(model); NDManager nd = NDManager.newBaseManager()) {
            List<Map<String, Object>> results = new ArrayList<>();
            for (int from = 0; from < files.size(); from += 256) {
                int to = Math.min(files.size(), from + 256);
                try (NDManager m = nd.newSubManager()) {
                    NDArray x = m.create(java.util.Arrays.copyOfRange(all, from * ch * size * size, to * ch * size * size),
                            new Shape(to - from, ch, size, size));
                    float[] probs = c.logits(x).softmax(1).toFloatArray();
                    int k = c.classes();
                    for (int i = from; i < to; i++) {
                        float[] p = java.util.Arrays.copyOfRange(probs, (i - from) * k, (i - from + 1) * k);
                        Integer[] order = new Integer[k];
                        for (int j = 0; j < k; j++) {
                            order[j] = j;
                        }
                        java.util.Arrays.sort(order, (a, b) -> Float.compare(p[b], p[a]));
                        Map<String, Object> r = new LinkedHashMap<>();
                        r.put("file", files.get(i).toString());
                        r.put("class", c.classNames().get(order[0]));
                        r.put("label", order[0]);
                        Map<String, Double> probMap = new LinkedHashMap<>();
                        for (int j = 0; j < Math.min(top, k); j++) {
                            probMap.put(c.classNames().get(order[j]), Math.round(p[order[j]] * 1e4) / 1e4);
                        }
                        r.put("probabilities", probMap);
                        results.add(r);
                    }
                }
            }
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("model", c.name());
                out.put("results", results);
                System.out.println(Json.GSON.toJson(out));
            } else {
                for (Map<String, Object> r : results) {
                    StringBuilder sb = new StringBuilder();
                    @SuppressWarnings("unchecked")
                    Map<String, Double> probs = (Map<String, Double>) r.get("probabilities");
                    probs.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %s %.1f%%", k, 100 * v)));
                    System.out.printf("%s: %s  (%s)%n", r.get("file"), r.get("class"), sb.toString().trim());
                }
            }
        }
        return 0;
    }
}
