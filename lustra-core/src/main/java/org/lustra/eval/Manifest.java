package org.lustra.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code manifest.json} of a run directory: written once, and a rerun must find the same experiment in it.
 * {@code cells} describes every cell (and, for worst-of cells, every route); {@code history} lists the cells redone
 * later ({@code --redo}). {@code hashes} (harness v2): SHA-256 of every model's weights and of the evaluation subset's
 * files, so a reproduction can tell whether it ran on the same inputs (defences' own weights were added in December:
 * an older manifest lacks them, and nothing requires an entry a manifest does not have); {@code seeds} says how the
 * random streams derive from the run seeds. The JSON field names are the record's component names: do not rename them,
 * committed runs are read back.
 */
public record Manifest(Experiment experiment, String created, String gitCommit, Map<String, String> versions,
        Map<String, CellInfo> cells, int images, String classifier, List<String> history,
        Map<String, String> hashes, String seeds) {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public Manifest {
        history = history == null ? List.of() : List.copyOf(history);
    }

    /** A manifest written before harness v2 (no hashes, no seed derivation). */
    public Manifest(Experiment experiment, String created, String gitCommit, Map<String, String> versions,
            Map<String, CellInfo> cells, int images, String classifier, List<String> history) {
        this(experiment, created, gitCommit, versions, cells, images, classifier, history, null, null);
    }

    /** The records a finished run holds: one per image, run seed and cell (route cells included). */
    public long expectedRecords() {
        return (long) images() * experiment.seeds().size() * cells.size();
    }

    /**
     * The route cells of a worst-of cell ({@code <cell id>@<MODE>}, in manifest order): their records are written with
     * the cell's, one per image and route, before the cell's own. Empty for single-route cells.
     */
    public List<String> routeCells(String cellId) {
        return cells.keySet().stream().filter(k -> k.startsWith(cellId + "@")).toList();
    }

    /**
     * Of {@code cellIds}, those whose worst-of routes differ in {@code now} (a defence gained or lost a route between
     * the build that began the run and the build at hand), in the order given, each once. Resuming such a cell would
     * leave half-filled route cells under one worst case; {@code --redo} rewrites a cell's routes.
     */
    public List<String> cellsWithOtherRoutes(Manifest now, List<String> cellIds) {
        if (cells == null || now.cells == null) {
            return List.of(); // a manifest from before harness v2 lists no routes, so it claims none
        }
        return cellIds.stream().distinct().filter(id -> !routeCells(id).equals(now.routeCells(id))).toList();
    }

    /** The same run with refreshed cell descriptions and a longer history (after a redo). */
    public Manifest withCells(Map<String, CellInfo> newCells, List<String> newHistory) {
        return new Manifest(experiment, created, gitCommit, versions, newCells, images, classifier, newHistory, hashes,
                seeds);
    }

    /**
     * The inputs whose SHA-256 differs between this manifest and {@code now} (the run's inputs as they are at hand), as
     * "KEY (OLD → NEW)" with hashes cut to 12 digits. Only entries both record as a hash count: a manifest that lacks
     * an entry, or that recorded why it had none, claims nothing about it (nor does a null side).
     */
    public List<String> changedInputs(Map<String, String> now) {
        List<String> out = new ArrayList<>();
        if (hashes == null || now == null) {
            return out;
        }
        for (Map.Entry<String, String> e : hashes.entrySet()) {
            String then = e.getValue();
            String current = now.get(e.getKey());
            if (isSha256(then) && isSha256(current) && !then.equals(current)) {
                out.add(e.getKey() + " (" + then.substring(0, 12) + "… → " + current.substring(0, 12) + "…)");
            }
        }
        return out;
    }

    private static boolean isSha256(String s) {
        return s != null && SHA256.matcher(s).matches();
    }
}
