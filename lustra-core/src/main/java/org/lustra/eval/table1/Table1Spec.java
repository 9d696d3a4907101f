package org.lustra.eval.table1;

import com.google.gson.JsonParseException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.lustra.util.Json;
import org.lustra.util.LustraException;

/**
 * {@code table1.json}: which run folders make the table, its columns (one attack each, with a non-adaptive and an
 * adaptive sub-column unless {@code modes} says otherwise) and rows (one defence each, with the seed paper's numbers),
 * and the attacks whose per-image worst case makes the last column. The JSON field names are the components' names.
 *
 * @param title the Markdown heading
 * @param classifier the classifier every run used (documentation; the runs' manifests are authoritative)
 * @param seedModel the seed paper's classifier, named in the header
 * @param runs the run folders, relative to the table's folder, in the order their cells are read
 * @param worstOf adaptive attacks that must all have been run for a defence to get a worst case
 * @param worstOfIfRun adaptive attacks that join a defence's worst case where their cell exists (the detector-aware
 *     evade-lavan exists only against defences with a detector, so requiring it would blank every other row)
 * @param onlyModes run folder → the modes whose cells the table reads from it (absent: all). Lets a later folder with
 *     more images supply the non-adaptive cells that an earlier folder also holds, without deleting that folder's
 *     committed journal.
 * @param skipAttacks run folder → attack ids (e.g. {@code lavan-0.120}) whose cells the table does not read from it
 *     (absent: none), or {@code defence|attack} (e.g. {@code diffender|lavan-0.120}) for one row's cell only. Lets a
 *     later folder supply one attack's cells, e.g. a paired full-length rerun of one column, while the earlier folder
 *     keeps supplying its other attacks (and, with a defence named, its other rows' cells of that attack).
 */
public record Table1Spec(String title, String classifier, String seedModel, List<String> runs, List<Column> columns,
        List<Row> rows, List<String> worstOf, List<String> worstOfIfRun, Map<String, List<String>> onlyModes,
        Map<String, List<String>> skipAttacks) {

    /** A spec without {@code skipAttacks}. */
    public Table1Spec(String title, String classifier, String seedModel, List<String> runs, List<Column> columns,
            List<Row> rows, List<String> worstOf, List<String> worstOfIfRun, Map<String, List<String>> onlyModes) {
        this(title, classifier, seedModel, runs, columns, rows, worstOf, worstOfIfRun, onlyModes, null);
    }

    public static final String FILE = "table1.json";
    static final String NONADAPTIVE = "nonadaptive";
    static final String ADAPTIVE = "adaptive";
    private static final String EXAMPLE = "see docs/results/table1-resnet/table1.json for one that works";

    public Table1Spec {
        require(title != null, "\"title\" is missing");
        require(seedModel != null, "\"seedModel\" is missing (the seed paper's classifier, named in the header)");
        require(runs != null && !runs.isEmpty(), "\"runs\" lists no run folder");
        require(columns != null && !columns.isEmpty(), "\"columns\" lists no attack");
        require(rows != null && !rows.isEmpty(), "\"rows\" lists no defence");
        require(worstOf != null && !worstOf.isEmpty(), "\"worstOf\" lists no attack for the worst-case column");
        require(!columns.contains(null) && !rows.contains(null) && !runs.contains(null), "a list has a null entry");
        runs = List.copyOf(runs);
        columns = List.copyOf(columns);
        rows = List.copyOf(rows);
        worstOf = List.copyOf(worstOf);
        worstOfIfRun = worstOfIfRun == null ? List.of() : List.copyOf(worstOfIfRun);
        onlyModes = onlyModes == null ? Map.of() : onlyModes;
        for (Map.Entry<String, List<String>> e : onlyModes.entrySet()) {
            require(runs.contains(e.getKey()), "\"onlyModes\" names " + e.getKey() + ", which \"runs\" does not list");
            List<String> modes = e.getValue();
            require(modes != null && !modes.isEmpty() && modes.stream().allMatch(Table1Spec::isMode),
                    "\"onlyModes\" gives " + e.getKey() + " " + modes + "; list nonadaptive, adaptive, or the two");
        }
        onlyModes = Map.copyOf(onlyModes);
        skipAttacks = skipAttacks == null ? Map.of() : skipAttacks;
        for (Map.Entry<String, List<String>> e : skipAttacks.entrySet()) {
            require(runs.contains(e.getKey()), "\"skipAttacks\" names " + e.getKey() + ", which \"runs\" does not "
                    + "list");
            require(e.getValue() != null && !e.getValue().isEmpty() && !e.getValue().contains(null),
                    "\"skipAttacks\" gives " + e.getKey() + " no attack id; list ids such as lavan-0.120, or "
                            + "diffender|lavan-0.120 for one row's cell");
        }
        skipAttacks = Map.copyOf(skipAttacks);
    }

    /**
     * Whether the table reads cells of {@code mode} from run folder {@code run}; a worst-of cell's route cells
     * ({@code adaptive@BPDA}) go with their cell's mode.
     */
    boolean reads(String run, String mode) {
        List<String> modes = onlyModes.get(run);
        int at = mode.indexOf('@');
        return modes == null || modes.contains(at < 0 ? mode : mode.substring(0, at));
    }

    /**
     * As {@link #reads(String, String)}, and neither the attack nor this defence's cell of it is one
     * {@code skipAttacks} leaves out of {@code run}.
     */
    boolean reads(String run, String defense, String mode, String attack) {
        List<String> skipped = skipAttacks.getOrDefault(run, List.of());
        return reads(run, mode) && !skipped.contains(attack) && !skipped.contains(defense + "|" + attack);
    }

    /**
     * One attack's columns.
     *
     * @param seedKey the key of the seed paper's number in each row's {@code seed} (null: the paper has none)
     * @param seedMode the sub-column the seed number sits in (default adaptive)
     * @param modes the sub-columns, default both: an attack that exists only adaptively has no non-adaptive one
     */
    public record Column(String attack, String label, String seedKey, String seedMode, List<String> modes) {
        public Column {
            require(attack != null && !attack.isBlank(), "a column has no \"attack\"");
            require(label != null, "column " + attack + " has no \"label\"");
            seedMode = seedMode == null ? ADAPTIVE : seedMode;
            require(isMode(seedMode), "column " + attack + " has \"seedMode\" " + seedMode + "; use nonadaptive or "
                    + "adaptive");
            modes = modes == null ? List.of(NONADAPTIVE, ADAPTIVE) : List.copyOf(modes);
            require(!modes.isEmpty() && modes.stream().allMatch(Table1Spec::isMode), "column " + attack
                    + " has \"modes\" " + modes + "; list nonadaptive, adaptive, or the two");
        }
    }

    /**
     * One defence's row. {@code seed} maps a column's {@code seedKey} (and {@code clean}) to the seed paper's number,
     * kept as written (a JSON number keeps its spelling, so 100.0 prints as 100.0).
     */
    public record Row(String defense, String label, Map<String, Number> seed) {
        public Row {
            require(defense != null && !defense.isBlank(), "a row has no \"defense\"");
            require(label != null, "row " + defense + " has no \"label\"");
            seed = seed == null ? Map.of() : Map.copyOf(seed);
        }
    }

    /** Reads {@code folder/table1.json}; a missing or malformed file is a {@link LustraException} naming the fix. */
    public static Table1Spec read(Path folder) {
        Path file = folder.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new LustraException(folder + " has no " + FILE + "; give the folder that holds it (the run folders "
                    + "it lists sit next to it), or write one (" + EXAMPLE + ").");
        }
        try {
            Table1Spec spec = Json.GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), Table1Spec.class);
            if (spec == null) {
                throw new LustraException(file + " is empty; write the table's runs, columns and rows (" + EXAMPLE
                        + ").");
            }
            return spec;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file, e);
        } catch (JsonParseException e) {
            throw new LustraException(file + " is not valid JSON of a table (" + e.getMessage() + "); fix it ("
                    + EXAMPLE + ").", e);
        } catch (RuntimeException e) {
            // Gson wraps what a record's constructor throws; the validation message is the sentence to show
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof IllegalArgumentException bad) {
                    throw new LustraException(file + ": " + bad.getMessage() + "; fix it (" + EXAMPLE + ").", e);
                }
            }
            throw e;
        }
    }

    static boolean isMode(String mode) {
        return NONADAPTIVE.equals(mode) || ADAPTIVE.equals(mode);
    }

    private static void require(boolean ok, String problem) {
        if (!ok) {
            throw new IllegalArgumentException(problem);
        }
    }
}
