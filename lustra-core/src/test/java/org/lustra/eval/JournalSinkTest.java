package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraException;
import org.lustra.util.Progress;

/** The runner's end of an engine: each pending chunk reaches the journal once, and only whole. */
class JournalSinkTest {
    @TempDir
    Path tmp;

    private static final RunDirectory.ChunkKey KEY = new RunDirectory.ChunkKey(1, "c", 0);

    private static List<SampleRecord> lines(String cell, int n) {
        List<SampleRecord> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new SampleRecord(1, cell, 0, i, 3, 3, 3, true, true, null, 1, 0, 0, 0, 1, null, 1, 1));
        }
        return out;
    }

    /** A sink for one pending chunk of 4 images of cell "c", a worst-of cell when {@code routes} are given. */
    private JournalSink sink(RunDirectory dir, String... routes) {
        Progress quiet = new Progress("test", 4, "images", new PrintStream(OutputStream.nullOutputStream()), false,
                0);
        List<String> routeCells = Arrays.stream(routes).map(r -> "c@" + r).toList();
        return new JournalSink(dir, chunk -> 4, cell -> cell.equals("c") ? routeCells : List.of(), List.of(KEY),
                quiet, 0, null, s -> { });
    }

    @Test
    void givenAChunkHandedBackTwice_whenTheSecondCopyArrives_thenItIsDropped() throws Exception {
        RunDirectory dir = new RunDirectory(tmp);
        JournalSink sink = sink(dir);

        sink.accept(KEY, lines("c", 4));
        sink.accept(KEY, lines("c", 4));

        assertEquals(4, Files.readAllLines(dir.samplesFile()).size());
        assertEquals(1, sink.written());
    }

    @Test
    void givenAnIncompleteChunk_whenHandedBack_thenNothingOfItIsWritten() {
        RunDirectory dir = new RunDirectory(tmp);
        JournalSink sink = sink(dir);

        assertThrows(LustraException.class, () -> sink.accept(KEY, lines("c", 3)));

        assertFalse(Files.exists(dir.samplesFile()));
        assertFalse(sink.finished());
    }

    @Test
    void givenAWorstOfChunk_whenHandedBackWithItsRouteLines_thenAllAreWrittenAndCountedAsEvaluations()
            throws Exception {
        RunDirectory dir = new RunDirectory(tmp);
        JournalSink sink = sink(dir, "EXACT", "BPDA");
        List<SampleRecord> chunk = new ArrayList<>(lines("c@EXACT", 4));
        chunk.addAll(lines("c@BPDA", 4));
        chunk.addAll(lines("c", 4));

        sink.accept(KEY, chunk);

        assertEquals(12, Files.readAllLines(dir.samplesFile()).size());
        assertTrue(sink.finished());
        assertEquals(12, sink.images(), "4 images judged through each of 2 routes and as the worst-of: 12 records");
        assertEquals(1, sink.written());
    }

    @Test
    void givenAWorstOfChunkWithARouteCutShort_whenHandedBack_thenNothingOfItIsWritten() {
        RunDirectory dir = new RunDirectory(tmp);
        JournalSink sink = sink(dir, "EXACT", "BPDA");
        List<SampleRecord> chunk = new ArrayList<>(lines("c@EXACT", 4));
        chunk.addAll(lines("c@BPDA", 3));
        chunk.addAll(lines("c", 4));

        LustraException e = assertThrows(LustraException.class, () -> sink.accept(KEY, chunk));

        assertTrue(e.getMessage().contains("3 of its 4 records of c@BPDA"), e.getMessage());
        assertFalse(Files.exists(dir.samplesFile()));
        assertFalse(sink.finished());
    }

    @Test
    void givenAWorstOfChunkMissingARoute_whenHandedBack_thenNothingOfItIsWritten() {
        RunDirectory dir = new RunDirectory(tmp);
        JournalSink sink = sink(dir, "EXACT", "BPDA");
        List<SampleRecord> chunk = new ArrayList<>(lines("c@EXACT", 4));
        chunk.addAll(lines("c", 4));

        assertThrows(LustraException.class, () -> sink.accept(KEY, chunk));

        assertFalse(Files.exists(dir.samplesFile()));
    }

    @Test
    void givenAChunkWithARouteTheManifestDoesNotList_whenHandedBack_thenNothingOfItIsWritten() {
        RunDirectory dir = new RunDirectory(tmp);
        JournalSink sink = sink(dir);
        List<SampleRecord> chunk = new ArrayList<>(lines("c@STE", 4));
        chunk.addAll(lines("c", 4));

        assertThrows(LustraException.class, () -> sink.accept(KEY, chunk));

        assertFalse(Files.exists(dir.samplesFile()));
    }
}
