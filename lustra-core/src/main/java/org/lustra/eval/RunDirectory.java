package org.lustra.eval;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;
import org.lustra.util.Files2;
import org.lustra.util.Json;

/**
 * The layout of one {@code lustra eval run} directory, in one place for the runner, {@link Reproduction} and
 * {@link Report}:
 * <ul>
 *   <li>{@code manifest.json} — the {@link Manifest}: the experiment, every cell's description, the redo history;</li>
 *   <li>{@code samples.jsonl} — the journal: one {@link SampleRecord} per line, appended and forced to disk per chunk.
 *       A chunk is finished when it has all its lines; a run killed mid-write leaves an unfinished chunk (or a torn
 *       line) that the next run drops and recomputes;</li>
 *   <li>{@code patches/} — AdvP universal patches ({@code <owner>-seed<s>.json}) and how they were made
 *       ({@code .info.json});</li>
 *   <li>{@code examples/} — one panel per cell (clean, adversarial, purified);</li>
 *   <li>{@code redo-pending.json} — only while a {@code --redo} is unfinished ({@link PendingRedo}).</li>
 * </ul>
 */
public final class RunDirectory {
    public static final String SAMPLES = "samples.jsonl";
    public static final String MANIFEST = "manifest.json";
    /** Present while a redo is unfinished ({@link PendingRedo}). */
    public static final String PENDING_REDO = "redo-pending.json";
    /** One record per line (PSNR of an unchanged image is +∞, so special values are allowed). */
    static final Gson LINE = new GsonBuilder().serializeSpecialFloatingPointValues().create();

    /**
     * The journal's unit of completion and the harness's unit of work: one chunk of one cell under one run seed. Its
     * random draws derive from these three alone ({@link RunSeeds}), so any engine may compute it anywhere.
     */
    public record ChunkKey(long seed, String cell, int chunk) {
        static ChunkKey of(SampleRecord r) {
            return new ChunkKey(r.seed(), r.cell(), r.chunk());
        }

        /** The key as text, {@code seed#cell#chunk}. */
        public String text() {
            return seed + "#" + cell + "#" + chunk;
        }

        /** Parses {@link #text}. */
        public static ChunkKey parse(String key) {
            String[] parts = key.split("#", -1);
            String last = parts[parts.length - 1];
            return new ChunkKey(Long.parseLong(parts[0]), key.substring(parts[0].length() + 1, key.length()
                    - last.length() - 1), Integer.parseInt(last));
        }
    }

    /**
     * A redo under way: the old records of {@code cells} are gone and their new ones are being computed by the code of
     * {@code gitCommit}. Rerunning the same redo at the same commit resumes it instead of dropping its new records.
     */
    public record PendingRedo(String gitCommit, List<String> cells, String started) {
        public PendingRedo {
            cells = List.copyOf(cells);
        }
    }

    /** One record as its journal line (without the newline); engines ship records between JVMs in this form. */
    public static String line(SampleRecord r) {
        return LINE.toJson(r);
    }

    /** The record of one journal line. */
    public static SampleRecord record(String line) {
        return LINE.fromJson(line, SampleRecord.class);
    }

    private final Path dir;

    public RunDirectory(Path dir) {
        this.dir = dir;
    }

    public Path path() {
        return dir;
    }

    public Path manifestFile() {
        return dir.resolve(MANIFEST);
    }

    public Path samplesFile() {
        return dir.resolve(SAMPLES);
    }

    public boolean hasManifest() {
        return Files.exists(manifestFile());
    }

    /** Both the manifest and the journal exist. */
    public boolean hasResults() {
        return hasManifest() && Files.exists(samplesFile());
    }

    public Manifest readManifest() {
        return Json.read(manifestFile(), Manifest.class);
    }

    public void writeManifest(Manifest m) {
        Json.writeAtomically(manifestFile(), m);
    }

    /** The redo under way, if one was started and the run has not finished since. */
    Optional<PendingRedo> pendingRedo() {
        Path f = dir.resolve(PENDING_REDO);
        return Files.exists(f) ? Optional.of(Json.read(f, PendingRedo.class)) : Optional.empty();
    }

    void writePendingRedo(PendingRedo redo) {
        Json.writeAtomically(dir.resolve(PENDING_REDO), redo);
    }

    /** Called when every chunk of the run is finished: no redo is under way any more. */
    void clearPendingRedo() {
        try {
            Files.deleteIfExists(dir.resolve(PENDING_REDO));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot delete " + dir.resolve(PENDING_REDO), e);
        }
    }

    void create() {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create " + dir, e);
        }
    }

    /** Every record of the journal, in file order; a torn line is an error here (the runner repairs those). */
    public List<SampleRecord> readRecords() {
        List<SampleRecord> out = new ArrayList<>();
        for (String line : lines()) {
            if (!line.isBlank()) {
                out.add(LINE.fromJson(line, SampleRecord.class));
            }
        }
        return out;
    }

    /**
     * Every whole record of the journal, in file order, skipping torn lines: for readers of a run that may be writing
     * right now or was killed mid-line (the runner drops and redoes such a line's chunk); the count skipped goes to
     * {@code torn}.
     */
    public List<SampleRecord> readWholeRecords(Consumer<Integer> torn) {
        List<SampleRecord> out = new ArrayList<>();
        int skipped = 0;
        for (String line : lines()) {
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(record(line));
            } catch (JsonParseException e) {
                skipped++;
            }
        }
        torn.accept(skipped);
        return out;
    }

    private List<String> lines() {
        try {
            return Files.readAllLines(samplesFile(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + samplesFile(), e);
        }
    }

    /**
     * The keys ({@link ChunkKey#text}) of the finished chunks: those with {@code expectedSize(chunk)} records. Lines of
     * unfinished chunks and torn lines are dropped from the journal (rewritten atomically), and {@code log} says so.
     */
    Set<String> finishedChunks(IntUnaryOperator expectedSize, Consumer<String> log) {
        Set<String> finished = new HashSet<>();
        if (!Files.exists(samplesFile())) {
            return finished;
        }
        Map<ChunkKey, List<String>> byChunk = new LinkedHashMap<>();
        int bad = 0;
        for (String line : lines()) {
            if (line.isBlank()) {
                continue;
            }
            try {
                SampleRecord r = LINE.fromJson(line, SampleRecord.class);
                byChunk.computeIfAbsent(ChunkKey.of(r), k -> new ArrayList<>()).add(line);
            } catch (JsonParseException e) {
                bad++;
            }
        }
        for (Map.Entry<ChunkKey, List<String>> e : byChunk.entrySet()) {
            if (e.getValue().size() == expectedSize.applyAsInt(e.getKey().chunk())) {
                finished.add(e.getKey().text());
            }
        }
        // A worst-of cell's per-route lines ("cell@MODE") belong to their cell's chunk: they count only when that
        // chunk is finished (else the chunk is redone and would append them a second time). The runner writes them
        // before the cell's own lines, so a finished cell chunk implies finished route lines.
        // Journals written before 1 December put the cell's lines first: a cell chunk whose route lines are present
        // but incomplete is unfinished as well.
        for (ChunkKey k : byChunk.keySet()) {
            int at = k.cell().lastIndexOf('@');
            if (at >= 0 && !finished.contains(k.text())) {
                finished.remove(new ChunkKey(k.seed(), k.cell().substring(0, at), k.chunk()).text());
            }
        }
        finished.removeIf(key -> {
            ChunkKey k = ChunkKey.parse(key);
            int at = k.cell().lastIndexOf('@');
            return at >= 0 && !finished.contains(new ChunkKey(k.seed(), k.cell().substring(0, at), k.chunk()).text());
        });
        StringBuilder kept = new StringBuilder();
        int dropped = bad;
        for (Map.Entry<ChunkKey, List<String>> e : byChunk.entrySet()) {
            if (finished.contains(e.getKey().text())) {
                e.getValue().forEach(l -> kept.append(l).append('\n'));
            } else {
                dropped += e.getValue().size();
            }
        }
        if (dropped > 0) {
            log.accept("Dropping " + dropped + " line(s) of unfinished chunks from " + samplesFile()
                    + "; they are recomputed");
            Files2.writeAtomically(samplesFile(), kept.toString().getBytes(StandardCharsets.UTF_8));
        }
        return finished;
    }

    /** Appends one chunk's records and forces them to disk before returning. */
    void append(List<SampleRecord> recs) {
        StringBuilder sb = new StringBuilder();
        for (SampleRecord r : recs) {
            sb.append(LINE.toJson(r)).append('\n');
        }
        try {
            Files2.appendForced(samplesFile(), sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot append to " + samplesFile(), e);
        }
    }

    /** Removes the records of {@code cells} from the journal (torn lines are kept: the next run drops them). */
    int dropRecords(Set<String> cells) {
        if (!Files.exists(samplesFile())) {
            return 0;
        }
        StringBuilder kept = new StringBuilder();
        int dropped = 0;
        for (String line : lines()) {
            if (line.isBlank()) {
                continue;
            }
            SampleRecord r;
            try {
                r = LINE.fromJson(line, SampleRecord.class);
            } catch (JsonParseException e) {
                r = null;
            }
            // a worst-of cell's per-route records ("<cell>@<MODE>") go with it
            String base = r == null ? null : r.cell().contains("@") ? r.cell().substring(0, r.cell().indexOf('@'))
                    : r.cell();
            if (r != null && (cells.contains(r.cell()) || cells.contains(base))) {
                dropped++;
            } else {
                kept.append(line).append('\n');
            }
        }
        Files2.writeAtomically(samplesFile(), kept.toString().getBytes(StandardCharsets.UTF_8));
        return dropped;
    }

    /** Deletes a cell's example panel and the universal patches of the cell and of {@code patchOwner}. */
    void forgetCellFiles(String cellId, String patchOwner, boolean ownerUnused) {
        deleteMatching(dir.resolve("patches"), safe(cellId) + "-seed"); // older layouts: one patch per cell
        // worst-of cells: one patch per route, restarts included (cell@EXACT-r2); no other cell id starts with this
        // one's followed by '@', as every id ends with its mode
        deleteMatching(dir.resolve("patches"), safe(cellId + "@"));
        if (ownerUnused) {
            // the owner's patch goes only when no kept cell uses it (a shared bare-classifier patch made their records)
            deleteMatching(dir.resolve("patches"), safe(patchOwner) + "-seed");
        }
        deleteMatching(dir.resolve("examples"), safe(cellId) + ".png");
    }

    private static void deleteMatching(Path folder, String prefix) {
        if (!Files.isDirectory(folder)) {
            return;
        }
        try (var files = Files.list(folder)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot clear " + folder, e);
        }
    }

    /** The universal patch of {@code owner} and run seed {@code seed} (a JSON float array). */
    Path patchFile(String owner, long seed) {
        return dir.resolve("patches").resolve(safe(owner) + "-seed" + seed + ".json");
    }

    /** How the patch in {@code patchFile} was made, next to it. */
    static Path patchInfoFile(Path patchFile) {
        return patchFile.resolveSibling(patchFile.getFileName().toString().replace(".json", ".info.json"));
    }

    /** The example panel of a cell's first chunk (rows clean, adversarial, purified); the demo reads it back. */
    public Path exampleFile(String cellId) {
        return dir.resolve("examples").resolve(safe(cellId) + ".png");
    }

    /** Copies the cached universal patches into {@code other} (a reproduction reuses them). */
    void copyPatchesTo(RunDirectory other) throws IOException {
        Path patches = dir.resolve("patches");
        if (Files.isDirectory(patches)) {
            Path to = Files.createDirectories(other.dir.resolve("patches"));
            try (var files = Files.list(patches)) {
                for (Path f : files.toList()) {
                    Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** A cell id as a file name. */
    static String safe(String id) {
        return id.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
