package org.lustra.cli;

import com.google.gson.FormattingStyle;
import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.util.Json;
import org.lustra.util.LustraException;

/**
 * The state of a {@code lustra purify} run in its output folder: the settings ({@value #SETTINGS}) and one JSON line
 * per finished image ({@value #RECORDS}), written after the image's PNGs and forced to disk, so a killed run restarts
 * where it stopped. On opening, a torn last line (the process died mid-write) is cut off and temporary files of
 * interrupted atomic writes are deleted: what remains is exactly what an uninterrupted run had written by then.
 */
final class PurifyJournal implements AutoCloseable {
    static final String SETTINGS = "purify-run.json";
    static final String RECORDS = "predictions.jsonl";
    /** The settings key of the diffusion model, present only for defences that use one. */
    static final String DIFFUSION = "diffusion";
    /** One record per line. */
    static final Gson LINE = Json.GSON.newBuilder().setFormattingStyle(FormattingStyle.COMPACT).create();
    /** Temporary files of {@code Files2.writeAtomically}: ".NAME.HEX.tmp". */
    private static final String LEFTOVER = "\\..+\\.[0-9a-f]+\\.tmp";

    private final Path out;
    private final Map<String, Map<String, Object>> records = new LinkedHashMap<>();
    private final FileChannel channel;

    private PurifyJournal(Path out, FileChannel channel) {
        this.out = out;
        this.channel = channel;
    }

    /** Opens (or starts) the run in {@code out}; refuses a folder that holds a run with other settings. */
    static PurifyJournal open(Path out, Map<String, Object> settings) {
        Common.requireFolder(out, "--out");
        try {
            Files.createDirectories(out);
            deleteLeftovers(out);
            checkSettings(out, settings);
            Path file = out.resolve(RECORDS);
            List<String> lines = readWholeLines(file);
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
            PurifyJournal j = new PurifyJournal(out, ch);
            for (String line : lines) {
                j.remember(line);
            }
            return j;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not open the purify run in " + out, e);
        }
    }

    /** True when {@code input} has a record and every file the record names exists. */
    boolean finished(String input) {
        Map<String, Object> r = records.get(input);
        if (r == null) {
            return false;
        }
        for (String key : List.of("purified", "mask", "anomaly")) {
            if (r.get(key) instanceof String f && !Files.isRegularFile(out.resolve(f))) {
                return false;
            }
        }
        return true;
    }

    /** Appends records (each with an "input" key) as lines and forces them to disk. */
    void append(List<Map<String, Object>> batch) {
        if (batch.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> r : batch) {
            sb.append(LINE.toJson(r)).append('\n');
        }
        try {
            ByteBuffer buf = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
            channel.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write " + out.resolve(RECORDS), e);
        }
        batch.forEach(r -> records.put((String) r.get("input"), r));
    }

    /** Every record of the run, finished before this process or by it, in order of first completion. */
    List<Map<String, Object>> records() {
        return new ArrayList<>(records.values());
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void remember(String line) {
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> r = Json.GSON.fromJson(line, Map.class);
            if (r != null && r.get("input") instanceof String input) {
                records.put(input, r);
            }
        } catch (JsonParseException e) {
            // a line that is not JSON names no finished image; that image is simply purified again
        }
    }

    /** The complete lines of {@code file}; a torn last line is cut off the file itself, so appends start clean. */
    private static List<String> readWholeLines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        byte[] bytes = Files.readAllBytes(file);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n') {
            end--;
        }
        if (end < bytes.length) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(end);
                ch.force(false);
            }
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
    }

    private static void checkSettings(Path out, Map<String, Object> settings) {
        Path file = out.resolve(SETTINGS);
        JsonObject want = Json.GSON.toJsonTree(settings).getAsJsonObject();
        if (!Files.exists(file)) {
            Json.writeAtomically(file, settings);
            return;
        }
        JsonElement had;
        try {
            had = JsonParser.parseString(Files.readString(file));
        } catch (IOException | JsonParseException e) {
            throw new LustraException(file + " is damaged; delete " + out + " or choose another --out folder.");
        }
        for (String key : want.keySet()) {
            JsonElement old = had.isJsonObject() ? had.getAsJsonObject().get(key) : null;
            if (old == null && key.equals(DIFFUSION)) {
                // runs from before --diffusion existed ran on the one model there was
                old = new JsonPrimitive(DiffusionModel.UNNAMED_IN_CONFIGS);
            }
            if (!want.get(key).equals(old)) {
                throw new LustraException("--out " + out + " holds a purify run with other settings (" + key + " "
                        + old + ", now " + want.get(key) + "); choose another --out folder or delete that one.");
            }
        }
    }

    private static void deleteLeftovers(Path out) throws IOException {
        try (Stream<Path> files = Files.walk(out)) {
            for (Path f : files.filter(Files::isRegularFile)
                    .filter(f -> f.getFileName().toString().matches(LEFTOVER)).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
