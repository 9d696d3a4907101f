package org.lustra.eval;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.lustra.util.LustraException;

/**
 * {@code eval run --redo}: forgets the results of the cells whose id contains any of the patterns (sample lines, AdvP
 * patches, example panels) so the next run computes them with the code at hand, and notes it in the manifest (history,
 * the cells' refreshed descriptions and routes, the weights' hashes of now).
 *
 * <p>A redo can take hours, so rerunning the same command after a kill resumes it: while it is unfinished,
 * {@code redo-pending.json} names its cells and the commit of the code making them, and a redo at that same commit
 * drops only cells not already under way. Only a clean commit identifies code: "…-dirty" (uncommitted edits) or
 * "unknown" always starts over, and a plain run at another commit in between marks the pending redo as mixed.
 */
final class Redo {
    /** A commit that names one state of the code: a full SHA-1 without "-dirty". */
    private static final Pattern CLEAN_COMMIT = Pattern.compile("[0-9a-f]{40}");
    /** The pending redo's commit after a run of other code computed some of its cells: never resumable. */
    private static final String MIXED = "mixed";

    private final Experiment exp;
    private final RunDirectory dir;
    private final Function<Experiment.Cell, Map<String, CellInfo>> describe;
    private final Supplier<Map<String, String>> hashes;
    private final Consumer<String> log;

    Redo(Experiment exp, RunDirectory dir, Function<Experiment.Cell, Map<String, CellInfo>> describe,
            Supplier<Map<String, String>> hashes, Consumer<String> log) {
        this.exp = exp;
        this.dir = dir;
        this.describe = describe;
        this.hashes = hashes;
        this.log = log;
    }

    /** Applies the redo to the run whose manifest is {@code old}; returns the cells matched. */
    List<String> apply(Manifest old, List<String> patterns, String gitCommit) {
        if (patterns.isEmpty()) {
            throw new IllegalArgumentException("redo needs at least one pattern");
        }
        for (String pattern : patterns) {
            if (exp.cells().stream().noneMatch(c -> c.id().contains(pattern))) {
                throw new LustraException("--redo " + pattern + " matches no cell of " + exp.name() + "; cells are "
                        + exp.cells().stream().map(Experiment.Cell::id).toList());
            }
        }
        List<String> matched = exp.cells().stream().map(Experiment.Cell::id)
                .filter(id -> patterns.stream().anyMatch(id::contains)).toList();
        Map<String, String> current = hashes.get();
        List<String> changed = old.changedInputs(current);
        // a redo begun on other weights cannot be resumed: its records so far were made with them
        Optional<RunDirectory.PendingRedo> unfinished = dir.pendingRedo()
                .filter(p -> CLEAN_COMMIT.matcher(gitCommit).matches() && p.gitCommit().equals(gitCommit))
                .filter(p -> changed.isEmpty());
        Set<String> underWay = new LinkedHashSet<>(unfinished.map(RunDirectory.PendingRedo::cells).orElse(List.of()));
        List<String> fresh = matched.stream().filter(id -> !underWay.contains(id)).toList();
        if (fresh.isEmpty()) {
            log.accept("Redo: resuming the unfinished redo of " + matched + " started " + unfinished.get().started()
                    + " at this commit; the records it has made are kept");
            return matched;
        }
        if (!changed.isEmpty()) {
            refuseHalfMadeKeptCells(old, matched, changed);
        }
        int dropped = forget(new HashSet<>(fresh));
        List<String> history = new ArrayList<>(old.history());
        history.add(Instant.now() + " at git commit " + gitCommit + ": redid " + fresh + " (" + dropped
                + " sample records dropped)" + (underWay.isEmpty() ? "" : "; " + underWay + " already under way"));
        Map<String, String> now = refreshedHashes(old, current, history);
        dir.writeManifest(new Manifest(old.experiment(), old.created(), old.gitCommit(), old.versions(),
                describedCells(old, fresh), old.images(), old.classifier(), history, now, old.seeds()));
        underWay.addAll(fresh);
        dir.writePendingRedo(new RunDirectory.PendingRedo(gitCommit, new ArrayList<>(underWay),
                Instant.now().toString()));
        log.accept("Redo: dropped " + dropped + " records of " + fresh.size() + " cell(s) " + fresh);
        return matched;
    }

    /**
     * With changed inputs, a kept cell that has some of its records and not all would be finished on the new weights
     * under a history line saying the kept cells used the former: such a cell must be redone too.
     */
    private void refuseHalfMadeKeptCells(Manifest old, List<String> matched, List<String> changed) {
        Map<String, Integer> made = new HashMap<>();
        for (SampleRecord r : dir.readRecords()) {
            made.merge(r.cell(), 1, Integer::sum);
        }
        int whole = exp.seeds().size() * old.images();
        List<String> halfMade = exp.cells().stream().map(Experiment.Cell::id)
                .filter(id -> !matched.contains(id) && made.getOrDefault(id, 0) > 0 && made.get(id) < whole).toList();
        if (!halfMade.isEmpty()) {
            throw new LustraException("The cells " + halfMade + " were begun on inputs that have changed since ("
                    + String.join("; ", changed) + ") and are not finished: add them to the redo (--redo "
                    + String.join(" --redo ", halfMade) + ") so that no cell mixes records of two sets of weights.");
        }
    }

    /**
     * Called by every run before it computes: a run at another commit than a pending redo's computes some of its
     * cells with other code, so that redo can no longer be resumed as one code state.
     */
    static void noteRun(RunDirectory dir, String gitCommit) {
        dir.pendingRedo().filter(p -> !p.gitCommit().equals(gitCommit)).ifPresent(p -> dir.writePendingRedo(
                new RunDirectory.PendingRedo(MIXED, p.cells(), p.started())));
    }

    /** Drops the records and files of {@code ids}; returns the records dropped. */
    private int forget(Set<String> ids) {
        int dropped = dir.dropRecords(ids);
        // a patch shared by several cells (the bare classifier's) is retrained only when every cell using it is redone:
        // a kept cell's records were made with it
        Set<String> keptOwners = new HashSet<>();
        for (Experiment.Cell c : exp.cells()) {
            if (!ids.contains(c.id())) {
                keptOwners.add(UniversalPatches.owner(c));
            }
        }
        for (Experiment.Cell c : exp.cells()) {
            if (ids.contains(c.id())) {
                String owner = UniversalPatches.owner(c);
                dir.forgetCellFiles(c.id(), owner, !keptOwners.contains(owner));
                // a route saved by the code of before the redo must not stand in for the new code's
                RouteCheckpoints.forgetCell(dir, c.id());
            }
        }
        return dropped;
    }

    /** The manifest's cells with {@code redone} described afresh, routes included (the code may offer new ones). */
    private Map<String, CellInfo> describedCells(Manifest old, List<String> redone) {
        Map<String, Map<String, CellInfo>> refreshed = new LinkedHashMap<>();
        for (Experiment.Cell c : exp.cells()) {
            if (redone.contains(c.id())) {
                refreshed.put(c.id(), describe.apply(c));
            }
        }
        Map<String, CellInfo> cells = new LinkedHashMap<>();
        for (Map.Entry<String, CellInfo> e : old.cells().entrySet()) {
            String id = e.getKey();
            int at = id.indexOf('@');
            if (refreshed.containsKey(id)) {
                cells.putAll(refreshed.get(id)); // the cell, then its current route cells, where it stood
            } else if (at < 0 || !refreshed.containsKey(id.substring(0, at))) {
                cells.put(id, e.getValue()); // a kept cell, or a route of one
            }
        }
        return cells;
    }

    /**
     * The hashes of the inputs the redone cells will run on: entries a manifest lacked are added, and a changed one
     * (weights retrained before the redo) is replaced and noted in {@code history} — the kept cells were made with the
     * old bytes, which a reader must know. Spark executors compare their own hashes with these.
     */
    private static Map<String, String> refreshedHashes(Manifest old, Map<String, String> current,
            List<String> history) {
        Map<String, String> was = old.hashes() == null ? Map.of() : old.hashes();
        Map<String, String> now = new LinkedHashMap<>(was);
        for (Map.Entry<String, String> e : current.entrySet()) {
            String before = was.get(e.getKey());
            if (before != null && !before.equals(e.getValue())) {
                history.add("  " + e.getKey() + " changed from " + before + " to " + e.getValue()
                        + ": the cells not redone were made with the former");
            }
            now.put(e.getKey(), e.getValue());
        }
        return now;
    }
}
