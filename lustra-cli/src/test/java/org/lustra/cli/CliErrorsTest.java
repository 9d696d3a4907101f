package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.data.ImageFiles;
import org.lustra.model.Architecture;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;

/** Each bad input of the issue gives one clear sentence on stderr and a non-zero exit code. */
class CliErrorsTest {
    @TempDir
    Path tmp;

    Path model;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static void assertOneSentence(Run r, String expected) {
        assertNotEquals(0, r.code(), "exit code");
        List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), "one line on stderr, got: " + r.err());
        assertTrue(lines.get(0).startsWith("lustra: "), lines.get(0));
        assertTrue(lines.get(0).contains(expected), lines.get(0));
        assertTrue(!r.err().contains("Exception"), "no stack trace: " + r.err());
    }

    @BeforeEach
    void tinyModel() {
        model = tmp.resolve("model");
        Architecture arch = Architecture.resnet(1, 28, 10, new int[] {4, 8}, 1);
        try (NDManager m = NDManager.newBaseManager()) {
            ModelStore.save(arch.initialize(m, 1), new ModelCard("tiny", "test", arch, 0,
                    List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), "synthetic", "none", "test", 1, null, 0,
                    null, null, null, null, null, null), model);
        }
    }

    @Test
    void classifyWorksOnARealImage() {
        ImageFiles.write(tmp.resolve("x.png"), new float[28 * 28], 1, 28, 28);
        Run r = run("classify", "--model", model.toString(), "--json", tmp.resolve("x.png").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"probabilities\""), r.out());
    }

    @Test
    void missingDataDirectory() {
        assertOneSentence(run("data", "subsets", "--data-dir", tmp.resolve("absent").toString()),
                "install the Debian package dataset-fashion-mnist");
    }

    @Test
    void corruptIdxFile() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("fm"));
        Files.write(dir.resolve("train-images-idx3-ubyte"), new byte[] {0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28});
        Files.write(dir.resolve("train-labels-idx1-ubyte"), new byte[] {0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3, 4, 5});
        assertOneSentence(run("data", "subsets", "--data-dir", dir.toString()), "is corrupt");
    }

    @Test
    void nonImageGivenToClassify() throws IOException {
        Path notes = Files.writeString(tmp.resolve("notes.txt"), "hello");
        assertOneSentence(run("classify", "--model", model.toString(), notes.toString()), "not an image");
    }

    @Test
    void tamperedWeightFile() throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(model.resolve(ModelStore.WEIGHTS).toFile(), "rw")) {
            f.seek(f.length() - 1);
            int b = f.read();
            f.seek(f.length() - 1);
            f.write(b ^ 1);
        }
        ImageFiles.write(tmp.resolve("x.png"), new float[28 * 28], 1, 28, 28);
        assertOneSentence(run("classify", "--model", model.toString(), tmp.resolve("x.png").toString()),
                "does not match its model card");
    }

    @Test
    void unknownModelAndBadOption() {
        ImageFiles.write(tmp.resolve("x.png"), new float[28 * 28], 1, 28, 28);
        Run unknown = run("classify", "--model", "no-such-model", tmp.resolve("x.png").toString());
        assertOneSentence(unknown, "not found");
        assertTrue(unknown.err().contains("available: ") && unknown.err().contains("classifier-resnet"), unknown.err());
        Run r = run("train", "classifier", "--arch", "lenet");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("choose one of"), r.err());
    }

    @Test
    void givenAnUnknownCorruption_whenAClassifierIsEvaluated_thenOneSentenceNamesTheForms() {
        assertOneSentence(run("eval", "classifier", "--model", "classifier-resnet", "--split", "eval512+fog:1"),
                "NAME+brightness:S");
    }

    @Test
    void givenAdvpOnTheDigits_whenAnExperimentRuns_thenItIsRefusedBeforeAnyModelLoads() throws IOException {
        // AdvP would train its patch on Fashion-MNIST validation images and labels against the digits classifier
        Path config = tmp.resolve("digits-advp.json");
        Files.writeString(config, "{\"name\": \"digits-advp\", \"classifier\": \"classifier-digits\", "
                + "\"subset\": \"digits-holdout\", \"attacks\": [{\"attack\": \"advp\"}]}");
        assertOneSentence(run("eval", "run", config.toString(), "--out", tmp.resolve("out").toString()),
                "AdvP trains its universal patch on data/validation");
    }

    @Test
    void givenAFolderWithABadAndAWrongSizeFile_whenClassified_thenTheGoodOneIsClassifiedAndExitCodeIs3()
            throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("mixed"));
        ImageFiles.write(dir.resolve("good.png"), new float[28 * 28], 1, 28, 28);
        ImageFiles.write(dir.resolve("small.png"), new float[16], 1, 4, 4);
        Files.writeString(dir.resolve("broken.png"), "not a png");
        Run r = run("classify", "--model", model.toString(), dir.toString());
        assertEquals(Main.PARTIAL, r.code(), r.err());
        assertTrue(r.out().contains("good.png"), r.out());
        assertTrue(r.err().contains("skipped") && r.err().contains("small.png") && r.err().contains("broken.png"),
                r.err());
    }

    @Test
    void givenAPngHeaderOf20000x20000_whenClassified_thenRefusedFromTheHeader() throws IOException {
        // header only, no pixel data: a decode would fail differently, so the size message proves the header check
        Path bomb = Files.write(tmp.resolve("bomb.png"), TestImages.pngHeaderOnly(20000,
                20000));
        assertOneSentence(run("classify", "--model", model.toString(), bomb.toString()), "expects 28x28");
        assertOneSentence(run("classify", "--model", model.toString(), "--resize", bomb.toString()),
                "more than the limit");
    }
}
