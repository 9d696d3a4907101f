package org.lustra.eval.table1;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lustra.eval.CellInfo;
import org.lustra.eval.Experiment;
import org.lustra.eval.Manifest;
import org.lustra.eval.Report;
import org.lustra.eval.RunDirectory;
import org.lustra.eval.SampleRecord;
import org.lustra.util.Json;

/** Tiny run folders as {@code lustra eval run} leaves them: one run seed, lines written by the harness's writer. */
final class RunFolders {
    private RunFolders() {}

    /** A deterministic defence's record of image {@code index}: single draw and majority agree. */
    static SampleRecord record(String cell, int index, boolean robust) {
        return randomised(cell, index, robust, robust, null);
    }

    /** A record with its three scores given apart ({@code anyCopyFooled} null for a deterministic defence). */
    static SampleRecord randomised(String cell, int index, boolean single, boolean robust, Boolean anyCopyFooled) {
        return new SampleRecord(1, cell, 0, index, 3, 3, robust ? 3 : 4, true, robust, anyCopyFooled, 3, 0.2, 1.0,
                25.0, 0.9, 36.0, 4.0, 10, single, false, true, 40L, 0L, 0L, null);
    }

    /** The same record flagged non-finite (an attack whose output had a NaN pixel). */
    static SampleRecord nonFinite(String cell, int index) {
        return new SampleRecord(1, cell, 0, index, 3, 3, 3, true, true, null, 1, 0.2, 1.0, 25.0, 0.9, 36.0, 4.0, 10,
                true, true, true, 40L, 0L, 0L, null);
    }

    /** A cell id {@code defense|attack|mode} as the manifest describes it. */
    static Map.Entry<String, CellInfo> cell(String id) {
        String[] p = id.split("\\|");
        return Map.entry(id, new CellInfo(p[0], p[1], p[2], "BPDA through " + p[0], p[0] + " -> classifier-resnet",
                "patch 5.0% of the image"));
    }

    /** A run folder with its manifest and journal but no report: a run still going, or killed. */
    static Path unfinished(Path folder, String run, int images, List<String> cells, List<String> journalLines)
            throws Exception {
        Path dir = Files.createDirectories(folder.resolve(run));
        Map<String, CellInfo> infos = new LinkedHashMap<>();
        cells.forEach(id -> infos.put(cell(id).getKey(), cell(id).getValue()));
        Experiment exp = Experiment.builder(run, "classifier-resnet").optSubset("eval512").optImages(images)
                .optProfile("quick").optSeeds(1L).optDefenses("none", "jpeg:75").optModes("nonadaptive", "adaptive")
                .optAttacks(Experiment.AttackConfig.builder("lavan").optFraction(0.05).build()).build();
        new RunDirectory(dir).writeManifest(new Manifest(exp, "2025-01-01", "abc", Map.of(), infos, images,
                "classifier-resnet", List.of()));
        Files.writeString(dir.resolve(RunDirectory.SAMPLES), String.join("\n", journalLines) + "\n",
                StandardCharsets.UTF_8);
        return dir;
    }

    /** A finished run folder: manifest, journal and the report.json the harness makes of them. */
    static Path finished(Path folder, String run, int images, List<String> cells, List<SampleRecord> records)
            throws Exception {
        Path dir = unfinished(folder, run, images, cells, records.stream().map(RunDirectory::line).toList());
        Json.writeAtomically(dir.resolve(Table1Runs.REPORT), Report.summarise(dir));
        return dir;
    }

    /** table1.json with one column per attack (both modes), one row per defence and the given worst-case lists. */
    static void spec(Path folder, List<String> runs, List<String> attacks, List<String> defenses,
            List<String> worstOf, List<String> worstOfIfRun) throws Exception {
        String json = "{\"title\": \"Tiny table\", \"seedModel\": \"Inception-v3\", \"runs\": " + quoted(runs)
                + ", \"columns\": [" + String.join(", ", attacks.stream().map(a -> "{\"attack\": \"" + a
                        + "\", \"label\": \"" + a + "\"}").toList()) + "], \"rows\": ["
                + String.join(", ", defenses.stream().map(d -> "{\"defense\": \"" + d + "\", \"label\": \"" + d
                        + "\"}").toList()) + "], \"worstOf\": " + quoted(worstOf) + ", \"worstOfIfRun\": "
                + quoted(worstOfIfRun) + "}";
        Files.createDirectories(folder);
        Files.writeString(folder.resolve(Table1Spec.FILE), json, StandardCharsets.UTF_8);
    }

    /** Adds {@code "onlyModes": {run: [modes]}} to the folder's table1.json. */
    static void onlyModes(Path folder, String run, List<String> modes) throws Exception {
        Path file = folder.resolve(Table1Spec.FILE);
        String json = Files.readString(file, StandardCharsets.UTF_8);
        Files.writeString(file, json.substring(0, json.lastIndexOf('}')) + ", \"onlyModes\": {\"" + run + "\": "
                + quoted(modes) + "}}", StandardCharsets.UTF_8);
    }

    /** Adds {@code "skipAttacks": {run: [attack ids]}} to the folder's table1.json. */
    static void skipAttacks(Path folder, String run, List<String> attacks) throws Exception {
        Path file = folder.resolve(Table1Spec.FILE);
        String json = Files.readString(file, StandardCharsets.UTF_8);
        Files.writeString(file, json.substring(0, json.lastIndexOf('}')) + ", \"skipAttacks\": {\"" + run + "\": "
                + quoted(attacks) + "}}", StandardCharsets.UTF_8);
    }

    private static String quoted(List<String> values) {
        return "[" + String.join(", ", values.stream().map(v -> "\"" + v + "\"").toList()) + "]";
    }
}
