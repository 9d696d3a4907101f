package org.lustra.eval.calibration;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lustra.util.Files2;
import org.lustra.util.LustraException;

/**
 * The journal of a {@link HeteroSweep}: its settings on the first line, then one JSON line per measured row, each
 * forced to disk as it is written, so a killed sweep resumes where it stopped.
 */
final class SweepJournal {
    private static final Gson LINE = new Gson();

    private SweepJournal() {}

    /**
     * The rows of {@code journal} (empty if it does not exist yet; a new journal gets {@code settings} as its first
     * line). A torn last line (a kill mid-write) is dropped.
     */
    static Map<String, HeteroSweep.Row> read(Path journal, HeteroSweep.Settings settings) {
        Map<String, HeteroSweep.Row> rows = new LinkedHashMap<>();
        try {
            if (!Files.exists(journal)) {
                Files.createDirectories(journal.toAbsolutePath().getParent());
                appendLine(journal, LINE.toJson(settings));
                return rows;
            }
            List<String> lines = Files.readAllLines(journal, StandardCharsets.UTF_8);
            HeteroSweep.Settings old = lines.isEmpty() ? null : parse(lines.get(0), HeteroSweep.Settings.class);
            if (!settings.equals(old)) {
                throw new LustraException("The sweep journal " + journal + " was made with other settings (" + old
                        + "; now " + settings + "); delete it to start afresh, or rerun with the same settings to "
                        + "resume.");
            }
            for (String l : lines.subList(1, lines.size())) {
                HeteroSweep.Row r = parse(l, HeteroSweep.Row.class);
                if (r != null) {
                    rows.put(r.id(), r);
                }
            }
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read or create the sweep journal " + journal, e);
        }
    }

    private static <T> T parse(String line, Class<T> type) {
        try {
            return LINE.fromJson(line, type);
        } catch (JsonParseException e) {
            return null; // a torn line: its candidate runs again
        }
    }

    /** Appends a measured row; forced to disk, so a kill loses at most the candidate being measured. */
    static void append(Path journal, HeteroSweep.Row row) {
        appendLine(journal, LINE.toJson(row));
    }

    private static void appendLine(Path journal, String line) {
        try {
            Files2.appendForced(journal, line + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not append to the sweep journal " + journal, e);
        }
    }
}
