package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraHome;

/**
 * A folder {@code lustra purify} killed with SIGKILL (in its own JVM, as a user's kill -9 would) and run again ends with
 * exactly the files of an uninterrupted run, byte for byte, and no partial or temporary file.
 */
class PurifyKillTest {
    /** Six chunks of {@link PurifyCommand#CHUNK}: the kill lands after the first and leaves five to do. */
    private static final int IMAGES = 6 * PurifyCommand.CHUNK;
    private static final String DEFENSE = "diffender:ddim2";

    @TempDir
    Path tmp;

    @Test
    void givenAPurifyKilledMidway_whenRerun_thenTheOutputsAreThoseOfAnUninterruptedRun() throws Exception {
        Path in = tmp.resolve("in");
        String[] names = new String[IMAGES];
        for (int i = 0; i < IMAGES; i++) {
            names[i] = String.format("img%03d.png", i);
        }
        PurifyCommandTest.writeEval(in, names);
        Path whole = tmp.resolve("whole");
        Path killed = tmp.resolve("killed");

        assertEquals(0, purify(in, whole, "whole").waitFor(), log(tmp.resolve("whole.log")));

        Process p = purify(in, killed, "killed");
        int linesAtKill = waitForJournal(p, killed.resolve(PurifyJournal.RECORDS));
        p.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the killed JVM ended");
        int linesAfterKill = lines(killed.resolve(PurifyJournal.RECORDS));
        assertTrue(linesAfterKill < IMAGES, "killed before the end: " + linesAfterKill + " of " + IMAGES
                + " images journalled (" + linesAtKill + " when the kill was sent)");

        assertEquals(0, purify(in, killed, "resumed").waitFor(), log(tmp.resolve("resumed.log")));
        String resumed = log(tmp.resolve("resumed.log"));
        assertTrue(resumed.contains("finished earlier were skipped"), resumed);

        Map<String, byte[]> expected = files(whole);
        Map<String, byte[]> actual = files(killed);
        assertEquals(expected.keySet(), actual.keySet(), "the same files, none partial or temporary");
        assertEquals(1 + 3 * IMAGES + 2, expected.size(), "PNGs, journal, summary and settings: " + expected.keySet());
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name), actual.get(name), name);
        }
    }

    /**
     * Starts {@code lustra purify} in a JVM of its own on this test's class path, with the engine settings of the
     * launcher: one engine thread (a second JVM beside the tests must not thrash the cores) and the oneDNN cap.
     */
    private Process purify(Path in, Path out, String label) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g", "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1", "-Dlustra.home=" + LustraHome.root(),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classPath, Main.class.getName(), "purify",
                in.toString(), "--out", out.toString(), "--defense", DEFENSE));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve(label + ".log").toFile());
        pb.environment().put("DNNL_MAX_CPU_ISA", "AVX");
        pb.environment().put("TORCH_CPP_LOG_LEVEL", "ERROR");
        return pb.start();
    }

    /** Waits until the journal holds a line (the first chunk is on disk); returns the line count then. */
    private static int waitForJournal(Process p, Path journal) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            int n = lines(journal);
            if (n > 0) {
                return n;
            }
            if (!p.isAlive()) {
                fail("purify ended before writing its journal (exit " + p.exitValue() + ")");
            }
            Thread.sleep(10);
        }
        p.destroyForcibly();
        return fail("purify wrote no journal line in 180 s");
    }

    private static int lines(Path file) throws IOException {
        return Files.exists(file) ? (int) Files.readAllLines(file).stream().filter(l -> !l.isBlank()).count() : 0;
    }

    /** Every regular file under {@code dir} by relative path, with its bytes. */
    private static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(f).toString(), Files.readAllBytes(f));
            }
        }
        return out;
    }

    private static String log(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file) : "(no log)";
    }
}
