package org.lustra.eval.table1;

import com.google.gson.JsonParseException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.lustra.eval.CellInfo;
import org.lustra.eval.Manifest;
import org.lustra.eval.Report;
import org.lustra.eval.RunDirectory;
import org.lustra.eval.SampleRecord;
import org.lustra.eval.worst.ImageKey;
import org.lustra.util.Json;
import org.lustra.util.LustraException;

/**
 * What the table's run folders hold: every cell (finished runs as their {@code report.json} scored them, unfinished
 * runs from the cells whose every image is in the journal), every journal record by cell and image, and one line per
 * run folder saying how complete it is. Nothing is recomputed that the harness recorded.
 *
 * @param cells by cell id, in the order of the runs and then of each run's cells (the clean column takes a defence's
 *     first cell)
 * @param records by cell id, then image; only cells the table may score
 * @param status one line per run folder, in the spec's order
 */
public record Table1Runs(Map<String, Table1Cell> cells, Map<String, Map<ImageKey, SampleRecord>> records,
        List<String> status) {

    /** The report.json of a finished run: its scores, and the checks the harness ran on it. */
    public static final String REPORT = "report.json";

    public Table1Runs {
        cells = Collections.unmodifiableMap(new LinkedHashMap<>(cells));
        records = Map.copyOf(records);
        status = List.copyOf(status);
    }

    /** Which of a run folder's cells the table reads, by the cell's defence spec, mode and attack id. */
    @FunctionalInterface
    private interface CellFilter {
        boolean test(String defense, String mode, String attack);
    }

    /** Reads the run folders {@code spec} lists under {@code folder}. */
    public static Table1Runs read(Path folder, Table1Spec spec) {
        Map<String, Table1Cell> cells = new LinkedHashMap<>();
        Map<String, Map<ImageKey, SampleRecord>> records = new HashMap<>();
        List<String> status = new ArrayList<>();
        for (String run : spec.runs()) {
            RunDirectory dir = new RunDirectory(folder.resolve(run));
            CellFilter reads = (defense, mode, attack) -> spec.reads(run, defense, mode, attack);
            String only = (spec.onlyModes().containsKey(run) ? " (the table reads its " + String.join(" and ",
                    spec.onlyModes().get(run)) + " cells only)" : "")
                    + (spec.skipAttacks().containsKey(run) ? " (the table skips its " + String.join(", ",
                    spec.skipAttacks().get(run)) + " cells)" : "");
            if (Files.isRegularFile(dir.path().resolve(REPORT))) {
                status.add(readFinished(run, dir, reads, cells, records) + only);
            } else if (dir.hasResults()) {
                status.add(readUnfinished(run, dir, reads, cells, records) + only);
            } else {
                status.add("`" + run + "`: not run yet (no " + REPORT + ", nor a journal: " + RunDirectory.MANIFEST
                        + " and " + RunDirectory.SAMPLES + "); run its config with `lustra eval run CONFIG --out` to "
                        + "that folder");
            }
        }
        return new Table1Runs(cells, records, status);
    }

    private static String readFinished(String run, RunDirectory dir, CellFilter reads,
            Map<String, Table1Cell> cells, Map<String, Map<ImageKey, SampleRecord>> records) {
        Report.Summary report = Json.read(dir.path().resolve(REPORT), Report.Summary.class);
        Set<String> read = new HashSet<>();
        for (Report.CellSummary c : report.cells()) {
            if (reads.test(c.defense(), c.mode(), c.attack())) {
                add(cells, Table1Cell.of(c, run));
                read.add(c.cell());
            }
        }
        for (SampleRecord r : journal(dir, run, false)) {
            if (!read.contains(r.cell())) {
                continue;
            }
            if (Boolean.TRUE.equals(r.nonFinite())) {
                throw nonFinite(run, r.cell() + " image " + r.index());
            }
            records.computeIfAbsent(r.cell(), k -> new HashMap<>()).put(ImageKey.of(r), r);
        }
        List<Report.Check> failed = report.checks().stream().filter(c -> !c.passed()).toList();
        return "`" + run + "`: " + report.evaluated() + " of " + report.expected() + " image evaluations, "
                + (failed.isEmpty() ? "all sanity checks passed" : "FAILED: " + failed.stream()
                        .map(c -> c.relation() + " (" + c.detail() + ")").collect(Collectors.joining("; ")));
    }

    /**
     * A run still going (or killed): the cells whose every image of every run seed is in the journal, scored from
     * their records. Torn lines are skipped: the harness redoes their chunk.
     */
    private static String readUnfinished(String run, RunDirectory dir, CellFilter reads,
            Map<String, Table1Cell> cells, Map<String, Map<ImageKey, SampleRecord>> records) {
        Manifest manifest = dir.readManifest();
        int expected = manifest.images() * manifest.experiment().seeds().size();
        Map<String, Map<ImageKey, SampleRecord>> byCell = new HashMap<>();
        for (SampleRecord r : journal(dir, run, true)) {
            byCell.computeIfAbsent(r.cell(), k -> new HashMap<>()).put(ImageKey.of(r), r);
        }
        int done = 0;
        List<String> soFar = new ArrayList<>();
        for (String id : manifest.cells().keySet()) {
            Map<ImageKey, SampleRecord> rs = byCell.getOrDefault(id, Map.of());
            CellInfo info = manifest.cells().get(id);
            if (!reads.test(info.defense(), info.mode(), info.attack()) || rs.isEmpty()) {
                continue;
            }
            if (rs.values().stream().anyMatch(r -> Boolean.TRUE.equals(r.nonFinite()))) {
                throw nonFinite(run, id);
            }
            if (rs.size() != expected) {
                // a cell under way stays out of the table (its images are a prefix, and the worst case needs them
                // all), but a run of many hours should not be silent until its last chunk: the status says where it is
                if (!id.contains("@")) {
                    soFar.add(soFar(id, info, rs.values(), expected));
                }
                continue;
            }
            add(cells, Table1Cell.of(Report.scoreCell(id, manifest.cells().get(id), List.copyOf(rs.values())), run
                    + " (unfinished run: scored from its journal)"));
            records.put(id, rs);
            done++;
        }
        long readable = manifest.cells().values().stream()
                .filter(c -> reads.test(c.defense(), c.mode(), c.attack())).count();
        return "`" + run + "`: UNFINISHED — " + done + " of " + readable + " cells complete in the "
                + "journal, scored from samples.jsonl (no report.json, so the harness's sanity checks have not run on "
                + "it)" + (soFar.isEmpty() ? "" : "; under way, not in the table: " + String.join("; ", soFar));
    }

    /** A cell still under way, as the status line quotes it: its images so far and the scores they give. */
    private static String soFar(String id, CellInfo info, Collection<SampleRecord> records, int expected) {
        Report.CellSummary c = Report.scoreCell(id, info, List.copyOf(records));
        // rounded as the table's own cells are (Table1Markdown.percent: half-even on the exact value)
        String scores = c.anyCopyRobust() == null
                ? "robust " + Table1Markdown.percent(c.robustMean()) + " %"
                : "majority " + Table1Markdown.percent(c.robustMean()) + " % (single "
                        + Table1Markdown.percent(c.singleRobust() != null ? c.singleRobust() : c.robustMean())
                        + ", any-of-K " + Table1Markdown.percent(c.anyCopyRobust()) + ")";
        return "`" + id + "` " + records.size() + " of " + expected + " images so far, " + scores;
    }

    private static void add(Map<String, Table1Cell> cells, Table1Cell cell) {
        Table1Cell earlier = cells.putIfAbsent(cell.cell(), cell);
        if (earlier != null) {
            throw new LustraException("Cell " + cell.cell() + " appears in two run folders (" + earlier.run()
                    + " and " + cell.run() + "); list each cell in one run folder only, drop one folder from "
                    + Table1Spec.FILE + ", or say in its \"onlyModes\" which modes (or in \"skipAttacks\" which attacks) "
                    + "to read from one of them.");
        }
    }

    /** The journal's records; a torn line is skipped in an unfinished run and an error in a finished one. */
    private static List<SampleRecord> journal(RunDirectory dir, String run, boolean skipTorn) {
        if (skipTorn) {
            return dir.readWholeRecords(torn -> { });
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(dir.samplesFile(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + dir.samplesFile(), e);
        }
        List<SampleRecord> out = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            try {
                out.add(RunDirectory.record(lines.get(i)));
            } catch (JsonParseException e) {
                throw new LustraException("Line " + (i + 1) + " of " + dir.samplesFile() + " is not a record ("
                        + e.getMessage() + "), though " + run + " has a report; rerun its `lustra eval run` "
                        + "command, which drops a torn line and redoes its chunk.", e);
            }
        }
        return out;
    }

    private static LustraException nonFinite(String run, String where) {
        return new LustraException("Run folder " + run + " has a non-finite record (" + where + "): the harness "
                + "flagged a failed attack there, an error to find (see its report.md) before the table is made.");
    }
}
