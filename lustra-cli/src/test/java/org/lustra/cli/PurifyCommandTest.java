package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.data.ImageFiles;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.util.Json;
import org.lustra.util.LustraHome;

/** {@code lustra purify} on shipped images: outputs, names, resumption, permissions and refusals. */
class PurifyCommandTest {
    @TempDir
    Path tmp;

    /** Writes eval512 images {@code 0..names.length-1} as PNGs with the given relative names under {@code dir}. */
    static void writeEval(Path dir, String... names) throws IOException {
        ImageSet eval = Subsets.load("eval512");
        try (NDManager m = NDManager.newBaseManager()) {
            float[] x = eval.batch(m, 0, names.length).toFloatArray();
            for (int i = 0; i < names.length; i++) {
                Path f = dir.resolve(names[i]);
                Files.createDirectories(f.getParent());
                ImageFiles.write(f, Arrays.copyOfRange(x, i * 784, (i + 1) * 784), 1, 28, 28);
            }
        }
    }

    @Test
    void writesPurifiedImagesMasksAnomalyMapsAndPredictions() throws Exception {
        Path in = tmp.resolve("in");
        writeEval(in, "a.png", "b.png");
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
        assertEquals(2, Files.readAllLines(out.resolve(PurifyJournal.RECORDS)).size());
        assertTrue(r.out().contains("a.png") && r.out().contains("->"), r.out());

        CliErrorsTest.assertOneSentence(CliErrorsTest.run("purify", in.toString(), "--out", out.toString(),
                "--defense", "diffender:bogus"), "Invalid defence");
        CliErrorsTest.assertOneSentence(CliErrorsTest.run("purify", in.toString(), "--out", out.toString(),
                "--defense", "none"), "purifies nothing");
    }

    @Test
    void givenSameNamedFilesInTwoFolders_whenPurified_thenBothAreKeptUnderTheirRelativePaths() throws Exception {
        writeEval(tmp, "a/x.png", "b/x.png");
        Path out = tmp.resolve("out");
        CliErrorsTest.Run r = CliErrorsTest.run("purify", tmp.resolve("a/x.png").toString(),
                tmp.resolve("b/x.png").toString(), "--out", out.toString(), "--defense", "median:3");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(out.resolve("a/x.purified.png")), r.out());
        assertTrue(Files.isRegularFile(out.resolve("b/x.purified.png")), r.out());
        assertTrue(r.out().contains("Wrote 2 purified"), r.out());
    }

    @Test
    void givenAnInterruptedRun_whenRerun_thenOnlyTheMissingImageIsRedoneWithTheSameBytes() throws Exception {
        Path in = tmp.resolve("in");
        writeEval(in, "a.png", "b.png", "c.png");
        Path out = tmp.resolve("out");
        String[] args = {"purify", in.toString(), "--out", out.toString(), "--defense", "diffender:ddim2"};
        assertEquals(0, CliErrorsTest.run(args).code());
        byte[] b = Files.readAllBytes(out.resolve("b.purified.png"));
        // as after a kill: b's outputs gone, its journal line torn, a temporary file left behind
        Files.delete(out.resolve("b.purified.png"));
        List<String> lines = Files.readAllLines(out.resolve(PurifyJournal.RECORDS));
        Files.writeString(out.resolve(PurifyJournal.RECORDS), lines.get(0) + "\n" + lines.get(2) + "\n"
                + lines.get(1).substring(0, 20));
        Files.writeString(out.resolve(".b.purified.png.1a2b.tmp"), "partial");

        CliErrorsTest.Run again = CliErrorsTest.run(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("Wrote 1 purified") && again.out().contains("2 finished earlier"), again.out());
        assertArrayEquals(b, Files.readAllBytes(out.resolve("b.purified.png")), "same chunk, same seed, same bytes");
        assertEquals(3, Files.readAllLines(out.resolve(PurifyJournal.RECORDS)).size());
        try (Stream<Path> files = Files.list(out)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "leftovers removed");
        }
        CliErrorsTest.Run other = CliErrorsTest.run("purify", in.toString(), "--out", out.toString(), "--defense",
                "median:3");
        CliErrorsTest.assertOneSentence(other, "other settings");
    }

    @Test
    void givenOutputs_whenWritten_thenTheyHaveTheUmasksPermissionsNotOwnerOnly() throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"),
                "no POSIX permissions on this file system");
        writeEval(tmp.resolve("in"), "a.png");
        Path out = tmp.resolve("out");
        assertEquals(0, CliErrorsTest.run("purify", tmp.resolve("in").toString(), "--out", out.toString(),
                "--defense", "median:3").code());
        Path reference = Files.writeString(tmp.resolve("reference.txt"), "x");
        assertEquals(Files.getPosixFilePermissions(reference),
                Files.getPosixFilePermissions(out.resolve("a.purified.png")));
    }

    @Test
    void givenOutIsAFile_whenPurifying_thenOneSentence() throws Exception {
        writeEval(tmp.resolve("in"), "a.png");
        Path file = Files.writeString(tmp.resolve("taken.png"), "x");
        CliErrorsTest.assertOneSentence(CliErrorsTest.run("purify", tmp.resolve("in").toString(), "--out",
                file.toString(), "--defense", "median:3"), "is a file");
    }

    @Test
    void givenDiffpureWithTAboveOne_whenParsed_thenTheRangeIsNamed() throws Exception {
        writeEval(tmp.resolve("in"), "a.png");
        CliErrorsTest.assertOneSentence(CliErrorsTest.run("purify", tmp.resolve("in").toString(), "--out",
                tmp.resolve("out").toString(), "--defense", "diffpure:5"), "must be in (0, 1]");
    }

    @Test
    void givenADiffusionModelFolder_whenPurifyingWithDiffPure_thenThatModelIsRecorded() throws Exception {
        writeEval(tmp.resolve("in"), "a.png");
        Path out = tmp.resolve("out");
        String folder = LustraHome.models().resolve("diffusion-unified").toAbsolutePath().toString();

        CliErrorsTest.Run r = CliErrorsTest.run("purify", tmp.resolve("in").toString(), "--out", out.toString(),
                "--defense", "diffpure:0.05:ddim2", "--diffusion", folder);

        assertEquals(0, r.code(), r.err());
        @SuppressWarnings("unchecked")
        Map<String, Object> json = Json.GSON.fromJson(Files.readString(out.resolve("predictions.json")), Map.class);
        assertEquals(folder, json.get("diffusion"));
    }

    @Test
    void givenAMissingDiffusionModel_whenPurifying_thenOneSentenceAndTheFolderStaysUsableForTheRightName()
            throws Exception {
        writeEval(tmp.resolve("in"), "a.png");
        Path out = tmp.resolve("out");

        CliErrorsTest.assertOneSentence(CliErrorsTest.run("purify", tmp.resolve("in").toString(), "--out",
                out.toString(), "--defense", "diffpure:0.05:ddim2", "--diffusion", "no-such-diffusion"),
                "no-such-diffusion");
        CliErrorsTest.Run fixed = CliErrorsTest.run("purify", tmp.resolve("in").toString(), "--out", out.toString(),
                "--defense", "diffpure:0.05:ddim2");

        assertEquals(0, fixed.code(), fixed.err());
    }
}
