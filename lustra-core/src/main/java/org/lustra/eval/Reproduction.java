package org.lustra.eval;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.lustra.util.LustraException;

/**
 * {@code lustra eval reproduce}: reruns K chunks of a finished run with the code at hand and compares every record
 * field with the journal (all but the wall-clock time). A committed report whose chunks no longer reproduce is a
 * finding: the code changed what it computes, or the run depended on something the manifest does not pin.
 *
 * <p>AdvP chunks reuse the run's cached universal patch (copied from {@code patches/}): the reproduction checks the
 * pasting and scoring, not the one-off patch training.
 */
public final class Reproduction {
    /**
     * How one chunk compared: records in the journal, records that differ, and per differing field the largest
     * absolute difference over the records (NaN for a field that is not a number, e.g. a prediction list) — so a
     * last-bit rounding difference reads differently from a changed result.
     */
    public record ChunkResult(String key, int records, int differing, Map<String, Double> maxAbsDiff) {
        public boolean reproduced() {
            return differing == 0;
        }

        public Set<String> fields() {
            return maxAbsDiff.keySet();
        }

        /** The differing fields with their largest differences, e.g. {@code distL2 (max |Δ| 2.4e-07)}. */
        public String describe() {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<String, Double> e : maxAbsDiff.entrySet()) {
                parts.add(e.getValue().isNaN() ? e.getKey()
                        : String.format(Locale.ROOT, "%s (max |Δ| %.2g)", e.getKey(), e.getValue()));
            }
            return String.join(", ", parts);
        }
    }

    /** All chunks compared. */
    public record Result(List<ChunkResult> chunks, String journalCommit) {
        public boolean reproduced() {
            return chunks.stream().allMatch(ChunkResult::reproduced);
        }
    }

    private Reproduction() {}

    /**
     * Reruns {@code k} chunks of the run in {@code dir} (spread evenly over the journal's finished chunks) into the
     * scratch folder {@code work} and compares.
     */
    public static Result run(Path dir, ExperimentRunner.Inputs in, int k, Path work, Consumer<String> log) {
        if (k < 1) {
            throw new IllegalArgumentException("Invalid chunk count: " + k + " (need ≥ 1)");
        }
        RunDirectory run = new RunDirectory(dir);
        if (!run.hasResults()) {
            throw new LustraException(dir + " is not a run directory (no " + RunDirectory.MANIFEST + " or "
                    + RunDirectory.SAMPLES + ").");
        }
        Manifest manifest = run.readManifest();
        Map<String, List<JsonObject>> journal = new LinkedHashMap<>();
        for (SampleRecord r : run.readRecords()) {
            journal.computeIfAbsent(RunDirectory.ChunkKey.of(r).text(), x -> new ArrayList<>())
                    .add(RunDirectory.LINE.toJsonTree(r).getAsJsonObject());
        }
        RunDirectory scratch = new RunDirectory(work);
        try {
            Files.createDirectories(work);
            run.copyPatchesTo(scratch);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> keys = new ArrayList<>(journal.keySet());
        List<String> chosen = new ArrayList<>();
        int take = Math.min(k, keys.size());
        for (int i = 0; i < take; i++) {
            chosen.add(keys.get((int) ((long) i * keys.size() / take)));
        }
        List<ChunkResult> out = new ArrayList<>();
        try (ExperimentRunner runner = new ExperimentRunner(manifest.experiment(), in, work, log)) {
            List<String> changed = manifest.changedInputs(runner.inputHashes());
            if (!changed.isEmpty()) {
                // then a difference below is expected, and this names its first suspect
                log.accept("The inputs differ from the run's (" + String.join("; ", changed) + ").");
            }
            for (String key : chosen) {
                RunDirectory.ChunkKey c = RunDirectory.ChunkKey.parse(key);
                log.accept("reproducing " + key);
                String base = c.cell().contains("@") ? c.cell().substring(0, c.cell().indexOf('@')) : c.cell();
                List<SampleRecord> again = runner.recompute(c.seed(), base, c.chunk()).stream()
                        .filter(r -> r.cell().equals(c.cell())).toList();
                out.add(compare(key, journal.get(key), again));
            }
        }
        return new Result(out, manifest.gitCommit());
    }

    /** Field-by-field comparison; fields the journal lacks (older records) and the wall-clock time are skipped. */
    static ChunkResult compare(String key, List<JsonObject> journal, List<SampleRecord> again) {
        Map<Integer, JsonObject> byIndex = new LinkedHashMap<>();
        for (SampleRecord r : again) {
            byIndex.put(r.index(), RunDirectory.LINE.toJsonTree(r).getAsJsonObject());
        }
        Map<String, Double> fields = new TreeMap<>();
        int differing = 0;
        List<JsonObject> sorted = new ArrayList<>(journal);
        sorted.sort(Comparator.comparingInt(o -> o.get("index").getAsInt()));
        for (JsonObject old : sorted) {
            JsonObject now = byIndex.get(old.get("index").getAsInt());
            boolean same = true;
            if (now == null) {
                fields.put("(record missing)", Double.NaN);
                same = false;
            } else {
                for (Map.Entry<String, JsonElement> e : old.entrySet()) {
                    if (e.getKey().equals("msPerImage") || e.getValue().isJsonNull()) {
                        continue;
                    }
                    JsonElement other = now.get(e.getKey());
                    if (!e.getValue().equals(other)) {
                        fields.merge(e.getKey(), difference(e.getValue(), other), Reproduction::larger);
                        same = false;
                    }
                }
            }
            differing += same ? 0 : 1;
        }
        return new ChunkResult(key, journal.size(), differing, fields);
    }

    /** |a − b| for two JSON numbers, else NaN. */
    private static double difference(JsonElement a, JsonElement b) {
        if (a.isJsonPrimitive() && a.getAsJsonPrimitive().isNumber() && b != null && b.isJsonPrimitive()
                && b.getAsJsonPrimitive().isNumber()) {
            return Math.abs(a.getAsDouble() - b.getAsDouble());
        }
        return Double.NaN;
    }

    /** The larger difference; NaN (not comparable) wins, so a non-numeric change is never hidden behind a number. */
    private static double larger(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
    }
}
