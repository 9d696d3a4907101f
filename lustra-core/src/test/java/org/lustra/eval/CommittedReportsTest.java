package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.lustra.util.LustraHome;

/**
 * A committed number must reproduce from its journal with the code at HEAD: every finished run folder under
 * {@code docs/results} has a {@code report.csv} equal to what {@link Report} makes of its {@code samples.jsonl} and
 * manifest now. Reads files only (the journals are ≈ 200 MB, well under a minute). A run still under way is skipped:
 * its journal grows between the report it last wrote and the commit. In CI the tree is a clean clone, so this checks
 * what is committed.
 */
class CommittedReportsTest {

    @Test
    void givenTheCommittedRunFolders_whenEachFinishedReportIsScoredAgain_thenItsCsvIsTheCommittedOne()
            throws IOException {
        Path results = LustraHome.root().resolve("docs/results");
        List<Path> folders;
        try (Stream<Path> walk = Files.walk(results)) {
            folders = walk.filter(p -> p.getFileName().toString().equals(RunDirectory.MANIFEST))
                    .map(Path::getParent).filter(d -> Files.exists(d.resolve("report.csv"))).sorted().toList();
        }
        List<String> differ = new ArrayList<>();
        int checked = 0;
        for (Path dir : folders) {
            if (!finished(dir)) {
                continue; // a run under way may be appending a line right now: reading it could meet a torn one
            }
            Report.Summary s = Report.summarise(dir);
            checked++;
            String committed = Files.readString(dir.resolve("report.csv"), StandardCharsets.UTF_8);
            if (!committed.equals(ReportFiles.csv(s))) {
                differ.add(results.relativize(dir).toString());
            }
        }

        assertTrue(checked >= 40, "expected the ≈ 50 committed run folders, found " + checked + " finished");
        assertEquals(List.of(), differ, "report.csv no longer reproduces from the journal at HEAD (rerun `lustra eval "
                + "report DIR` and say in the folder's NOTES what moved)");
    }

    /** The journal holds every image evaluation the manifest plans (counted as lines, before parsing any). */
    private static boolean finished(Path dir) throws IOException {
        long expected = new RunDirectory(dir).readManifest().expectedRecords();
        try (Stream<String> lines = Files.lines(dir.resolve(RunDirectory.SAMPLES), StandardCharsets.UTF_8)) {
            return lines.filter(l -> !l.isBlank()).count() >= expected;
        }
    }
}
