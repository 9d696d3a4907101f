package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal's unit of completion when a worst-of cell writes its route lines with its own. */
class JournalTest {
    @TempDir
    Path tmp;

    private static List<SampleRecord> lines(String cell, int n) {
        List<SampleRecord> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new SampleRecord(1, cell, 0, i, 3, 3, 3, true, true, null, 1, 0, 0, 0, 1, null, 1, 1));
        }
        return out;
    }

    @Test
    void givenARunKilledAfterTheRouteLinesButBeforeTheCellsOwn_whenResumed_thenTheRouteLinesAreDroppedToo()
            throws Exception {
        RunDirectory dir = new RunDirectory(tmp);
        List<SampleRecord> chunk = new ArrayList<>(lines("c@EXACT", 4));
        chunk.addAll(lines("c@BPDA", 4));
        chunk.addAll(lines("c", 2)); // killed mid-append: 2 of the cell's 4 lines reached the disk
        dir.append(chunk);

        Set<String> finished = dir.finishedChunks(k -> 4, s -> { });

        assertTrue(finished.isEmpty(), "the chunk is redone whole: " + finished);
        assertEquals("", Files.readString(dir.samplesFile()).trim(), "no line would be written twice");
    }

    @Test
    void givenAnOlderJournalCutInsideTheRouteLines_whenResumed_thenTheCellChunkIsRedoneToo() throws Exception {
        RunDirectory dir = new RunDirectory(tmp);
        List<SampleRecord> chunk = new ArrayList<>(lines("c", 4)); // before 1 December the cell's lines came first
        chunk.addAll(lines("c@EXACT", 4));
        chunk.addAll(lines("c@BPDA", 1));
        dir.append(chunk);

        Set<String> finished = dir.finishedChunks(k -> 4, s -> { });

        assertTrue(finished.isEmpty(), "a finished cell chunk with unfinished routes is redone whole: " + finished);
    }

    @Test
    void givenAFinishedWorstOfChunk_whenResumed_thenItAndItsRoutesCountAsFinished() throws Exception {
        RunDirectory dir = new RunDirectory(tmp);
        List<SampleRecord> chunk = new ArrayList<>(lines("c@EXACT", 4));
        chunk.addAll(lines("c@BPDA", 4));
        chunk.addAll(lines("c", 4));
        dir.append(chunk);

        Set<String> finished = dir.finishedChunks(k -> 4, s -> { });

        assertEquals(Set.of("1#c#0", "1#c@EXACT#0", "1#c@BPDA#0"), finished);
        assertFalse(Files.readString(dir.samplesFile()).isBlank());
    }
}
