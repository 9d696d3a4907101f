package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.data.ImageFiles;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.util.Json;

/** {@code lustra purify} on two shipped images with DIFFender (2 restoration steps to stay quick). */
class PurifyCommandTest {
    @TempDir
    Path tmp;

    @Test
    void writesPurifiedImagesMasksAnomalyMapsAndPredictions() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        ImageSet eval = Subsets.load("eval512");
        try (NDManager m = NDManager.newBaseManager()) {
            float[] x = eval.batch(m, 0, 2).toFloatArray();
            ImageFiles.write(in.resolve("a.png"), java.util.Arrays.copyOfRange(x, 0, 784), 1, 28, 28);
            ImageFiles.write(in.resolve("b.png"), java.util.Arrays.copyOfRange(x, 784, 1568), 1, 28, 28);
        }
        Path out = tmp.resolve("out");
        CliErrorsTest.Run r = CliErrorsTest.run("purify", in.toString(), "--out", out.toString(), "--defense",
                "diffender:ddim2");
        assertEquals(0, r.code(), r.err());
        for (String name : List.of("a", "b")) {
            for (String kind : List.of("purified", "mask", "anomaly")) {
                Path f = out.resolve(name + "." + kind + ".png");
                assertTrue(Files.isRegularFile(f), f + " written");
                assertEquals(784, ImageFiles.read(f, 1, 28, 28, false).length);
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> json = Json.GSON.fromJson(Files.readString(out.resolve("predictions.json")), Map.class);
        assertEquals(2, ((List<?>) json.get("results")).size());
        assertTrue(r.out().contains("a.png") && r.out().contains("->"), r.out());

        CliErrorsTest.assertOneSentence(CliErrorsTest.run("purify", in.toString(), "--out", out.toString(),
                "--defense", "diffender:bogus"), "Invalid defence");
        CliErrorsTest.assertOneSentence(CliErrorsTest.run("purify", in.toString(), "--out", out.toString(),
                "--defense", "none"), "purifies nothing");
    }
}
