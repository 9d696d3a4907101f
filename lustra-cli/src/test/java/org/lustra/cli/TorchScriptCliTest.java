package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.Json;

/** {@code --classifier model.pt}: the committed TorchScript fixture of lustra-core through the CLI. */
class TorchScriptCliTest {
    /** Maven runs a module's tests in the module folder; the fixture lives with the core tests that made it. */
    static final Path FIXTURE = Path.of("../lustra-core/src/test/resources/org/lustra/model/torchscript");

    @TempDir
    Path tmp;

    Path model;

    @BeforeEach
    void copyFixture() throws IOException {
        assertTrue(Files.isRegularFile(FIXTURE.resolve("tiny-fmnist.pt")), "fixture at " + FIXTURE.toAbsolutePath());
        model = tmp.resolve("tiny.pt");
        Files.copy(FIXTURE.resolve("tiny-fmnist.pt"), model);
        Files.copy(FIXTURE.resolve("tiny-fmnist.json"), tmp.resolve("tiny.json"));
        PurifyCommandTest.writeEval(tmp.resolve("in"), "a.png", "b.png");
    }

    @Test
    void givenATorchScriptFileWhenClassifyingThenItsClassesArePrinted() {
        // when
        CliErrorsTest.Run r = CliErrorsTest.run("classify", tmp.resolve("in").toString(), "--classifier",
                model.toString(), "--json");
        // then: eval512 images 0 and 1 are a trouser and a t-shirt, which the fixture gets right
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"model\": \"tiny-fmnist\"") || r.out().contains("\"model\":\"tiny-fmnist\""),
                r.out());
        assertTrue(r.out().contains("trouser") && r.out().contains("t-shirt"), r.out());
    }

    @Test
    void givenATorchScriptFileWhenPurifyingWithMedianThenImagesAndPredictionsAreWritten() throws IOException {
        // when
        Path out = tmp.resolve("out");
        CliErrorsTest.Run r = CliErrorsTest.run("purify", tmp.resolve("in").toString(), "--out", out.toString(),
                "--defense", "median:3", "--classifier", model.toString());
        // then
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(out.resolve("a.purified.png")) && Files.isRegularFile(out.resolve(
                "predictions.json")), r.out());
        @SuppressWarnings("unchecked")
        Map<String, Object> json = Json.GSON.fromJson(Files.readString(out.resolve("predictions.json")), Map.class);
        assertEquals(model.toString(), json.get("classifier"), "the TorchScript file classified them");
        assertEquals(2, ((List<?>) json.get("results")).size(), "a.png and b.png");
    }

    @Test
    void givenATorchScriptFileWithoutItsJsonWhenClassifyingThenOneSentenceNamesTheJsonToWrite() throws IOException {
        Files.delete(tmp.resolve("tiny.json"));
        CliErrorsTest.Run r = CliErrorsTest.run("classify", tmp.resolve("in").toString(), "--classifier",
                model.toString());
        CliErrorsTest.assertOneSentence(r, "has no description beside it; write " + tmp.resolve("tiny.json"));
    }

    @Test
    void givenHeteroForATorchScriptFileWhenPurifyingThenOneSentenceSaysWhy() {
        CliErrorsTest.Run r = CliErrorsTest.run("purify", tmp.resolve("in").toString(), "--out",
                tmp.resolve("out").toString(), "--defense", "hetero", "--classifier", model.toString());
        CliErrorsTest.assertOneSentence(r, "does not expose");
    }
}
