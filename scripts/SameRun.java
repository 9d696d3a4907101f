import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Says whether two run directories of {@code lustra eval run} hold the same results: every per-sample record of
 * {@code samples.jsonl} (sorted, so the order chunks finished in does not matter, but a chunk written twice does) and
 * {@code report.json}, wall-clock time ({@code msPerImage}) and the report's creation date aside, as
 * {@code SparkChunkEngineTest} compares them. Exit code 0 when identical, 1 with the first difference otherwise.
 *
 * <p>Run as a single-file program with Gson on the class path:
 * {@code java -cp 'lustra-cli/target/lib/*' scripts/SameRun.java DIR_A DIR_B}.
 */
public final class SameRun {
    private SameRun() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: SameRun DIR_A DIR_B (two run directories of lustra eval run)");
            System.exit(2);
        }
        Path a = Path.of(args[0]);
        Path b = Path.of(args[1]);
        List<String> ra = records(a);
        List<String> rb = records(b);
        String recordDiff = firstDifference(ra, rb);
        String reportDiff = firstDifference(List.of(report(a).toString()), List.of(report(b).toString()));
        if (recordDiff == null && reportDiff == null) {
            System.out.println("same run: " + ra.size() + " records and the report identical (wall-clock time aside)");
            return;
        }
        if (recordDiff != null) {
            System.out.println("records differ (" + ra.size() + " in " + a + ", " + rb.size() + " in " + b + "): "
                    + recordDiff);
        }
        if (reportDiff != null) {
            System.out.println("report.json differs: " + reportDiff);
        }
        System.exit(1);
    }

    /** The journal's lines without the wall-clock field, sorted. */
    static List<String> records(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("samples.jsonl"), StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            o.remove("msPerImage");
            out.add(o.toString());
        }
        Collections.sort(out);
        return out;
    }

    /** report.json without its creation date and the cells' wall-clock time. */
    static JsonObject report(Path dir) throws IOException {
        JsonObject o = JsonParser.parseString(Files.readString(dir.resolve("report.json"), StandardCharsets.UTF_8))
                .getAsJsonObject();
        o.remove("created");
        for (JsonElement cell : o.getAsJsonArray("cells")) {
            cell.getAsJsonObject().remove("msPerImage");
        }
        return o;
    }

    /** Null when equal, else the first pair of lines that differ (or the count that does). */
    static String firstDifference(List<String> a, List<String> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            if (!a.get(i).equals(b.get(i))) {
                return "\n  A: " + a.get(i) + "\n  B: " + b.get(i);
            }
        }
        return a.size() == b.size() ? null : "A has " + a.size() + ", B has " + b.size();
    }
}
