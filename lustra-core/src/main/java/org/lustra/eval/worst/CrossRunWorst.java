package org.lustra.eval.worst;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lustra.eval.CellInfo;
import org.lustra.eval.Experiment;
import org.lustra.eval.Manifest;
import org.lustra.eval.PairedRows;
import org.lustra.eval.RunDirectory;
import org.lustra.eval.SampleRecord;
import org.lustra.util.LustraException;

/**
 * The per-image worst case over every attack tried on a defence, across run folders ({@code lustra eval worst}): cells
 * of one defence and one {@link Threat} form a group, whatever their attack, mode and run, and an image counts as
 * robust only if it survived each of them. A defence is known by the name it ran under ({@link CellInfo#defendedBy}:
 * the purifier and its settings), not by its spec: {@code hetero} meant other settings before a default changed. The
 * harness scores each cell alone, so a study that ran the adaptive
 * attacks in one folder and the non-adaptive (transferred) ones in another has two numbers where the attacker has one:
 * on the shuffled digits DISCO kept 25 of 64 images under white-box PGD-200 but 9 under the worst of it and transfer
 * (3 December), counted by hand then. Route cells of worst-of cells are left out: their cell already keeps each
 * image's worst route.
 *
 * <p>Runs must read the same classifier and subset (image indices then name the same images) and, where both record
 * them, the same model and data hashes. A group is scored on the images every member has records of (the same run
 * seed and index); unfinished runs join with the records they have.
 */
public final class CrossRunWorst {
    private CrossRunWorst() {}

    /** One run folder: as the user named it, its experiment, commit and how far it got. */
    public record Run(String label, String experiment, String gitCommit, long records, long expected) {}

    /**
     * One cell of one run within a group: its own image count, and on the group's shared images how many it left
     * robust (majority of K) and how many it alone fooled (every other member left them robust).
     */
    public record Member(String run, String cell, String mode, String gradientMode, int images, int robustOnShared,
            int fooledOnlyHere) {}

    /**
     * One defence under one threat: its members and their worst case (null when they share no image). {@code defence}
     * is the defence as it ran ({@link CellInfo#defendedBy}), {@code specs} the specs the runs wrote for it,
     * {@code robust} the worst-case outcome (majority of K) of each shared image.
     */
    public record Group(String defence, List<String> specs, Threat threat, List<Member> members, WorstCase worst,
            Map<ImageKey, Boolean> robust) {
        public Group {
            specs = List.copyOf(specs);
            members = List.copyOf(members);
            robust = Map.copyOf(robust);
        }

        /** Some cell attacked through the defence: else the row is only what transferred attacks leave. */
        public boolean attackedAdaptively() {
            return members.stream().anyMatch(m -> m.mode().equals("adaptive"));
        }
    }

    /**
     * The groups, and every two defended groups of one threat compared on the images both have ({@code attack} of a
     * pair is the threat's label): paired by image, though their attacks' random draws differ between runs. Only rows
     * that met the same kind of attacker are compared: both attacked adaptively, or neither.
     */
    public record Result(String classifier, String subset, List<Run> runs, List<Group> groups,
            List<PairedRows.Pair> comparisons) {
        public Result {
            runs = List.copyOf(runs);
            groups = List.copyOf(groups);
            comparisons = List.copyOf(comparisons);
        }
    }

    private record Key(String defence, Threat threat) {}

    private record Cell(String run, String id, String spec, String mode, String gradientMode,
            Map<ImageKey, SampleRecord> records) {}

    /** The worst case of every defence and threat in {@code dirs} (labelled as given). */
    public static Result of(List<Path> dirs) {
        if (dirs.isEmpty()) {
            throw new LustraException("Give at least one run folder (a folder `lustra eval run --out` wrote).");
        }
        List<Run> runs = new ArrayList<>();
        Map<Key, List<Cell>> groups = new LinkedHashMap<>();
        Manifest first = null;
        String firstLabel = null;
        for (Path dir : dirs) {
            String label = dir.toString();
            RunDirectory run = new RunDirectory(dir);
            if (!run.hasManifest()) {
                throw new LustraException(dir + " is not a run folder (no " + RunDirectory.MANIFEST + "); give folders "
                        + "`lustra eval run --out` wrote.");
            }
            Manifest m = run.readManifest();
            if (first == null) {
                first = m;
                firstLabel = label;
            } else {
                requireSameImages(firstLabel, first, label, m);
            }
            runs.add(read(label, run, m, groups));
        }
        // defences in the order they first appear, each one's threats by norm and size
        List<String> defences = groups.keySet().stream().map(Key::defence).distinct().toList();
        List<Group> out = groups.keySet().stream().sorted(Comparator.comparingInt((Key k) -> defences.indexOf(
                k.defence())).thenComparing(k -> k.threat().norm()).thenComparingDouble(k -> k.threat().size()))
                .map(k -> score(k, groups.get(k))).toList();
        return new Result(first.classifier(), first.experiment().subset(), runs, out, compare(out));
    }

    /** Every two defended groups of one threat, on the images both have; threats in the order of their first group. */
    private static List<PairedRows.Pair> compare(List<Group> groups) {
        List<Group> defended = groups.stream().filter(g -> !g.defence().equals("none") && g.worst() != null)
                .toList();
        List<Threat> threats = defended.stream().map(Group::threat).distinct()
                .sorted(Comparator.comparing(Threat::norm).thenComparingDouble(Threat::size)).toList();
        List<PairedRows.Pair> out = new ArrayList<>();
        for (Threat t : threats) {
            List<Group> of = defended.stream().filter(g -> g.threat().equals(t)).toList();
            for (int i = 0; i < of.size(); i++) {
                for (int j = i + 1; j < of.size(); j++) {
                    // a row that never met an adaptive attacker is an upper bound: against one that did, the
                    // difference would be the attacker's, not the defences'
                    if (of.get(i).attackedAdaptively() == of.get(j).attackedAdaptively()) {
                        out.add(pair(t, of.get(i), of.get(j)));
                    }
                }
            }
        }
        return out;
    }

    private static PairedRows.Pair pair(Threat t, Group a, Group b) {
        int[] counts = new int[4]; // both, only a, only b, neither
        for (Map.Entry<ImageKey, Boolean> e : a.robust().entrySet()) {
            Boolean other = b.robust().get(e.getKey());
            if (other != null) {
                counts[e.getValue() ? (other ? 0 : 1) : (other ? 2 : 3)]++;
            }
        }
        return new PairedRows.Pair(t.label(), a.defence(), b.defence(), counts[0] + counts[1] + counts[2] + counts[3],
                counts[0], counts[1], counts[2], counts[3]);
    }

    /** Image i of two runs is the same image only under one classifier, subset and set of weights. */
    private static void requireSameImages(String aLabel, Manifest a, String bLabel, Manifest b) {
        if (!a.classifier().equals(b.classifier()) || !a.experiment().subset().equals(b.experiment().subset())) {
            throw new LustraException("Run folders " + aLabel + " and " + bLabel + " evaluate different things ("
                    + a.classifier() + " on " + a.experiment().subset() + " vs " + b.classifier() + " on "
                    + b.experiment().subset() + "); a per-image worst case needs one classifier and one subset: give "
                    + "folders of one study.");
        }
        List<String> changed = a.changedInputs(b.hashes());
        if (!changed.isEmpty()) {
            throw new LustraException("Run folders " + aLabel + " and " + bLabel + " used different inputs: "
                    + String.join(", ", changed) + "; their images or models are not the same, so their records "
                    + "cannot be combined per image.");
        }
    }

    /** Adds the run's cells (those with records) to their groups; returns what the run is. */
    private static Run read(String label, RunDirectory run, Manifest m, Map<Key, List<Cell>> groups) {
        Map<String, Map<ImageKey, SampleRecord>> byCell = new HashMap<>();
        List<SampleRecord> records = run.readWholeRecords(torn -> { });
        for (SampleRecord r : records) {
            if (Boolean.TRUE.equals(r.nonFinite())) {
                throw new LustraException("Run folder " + label + " has a non-finite record (" + r.cell() + ", image "
                        + r.index() + "): the harness flagged a failed attack there, an error to find (see its "
                        + "report.md) before its records are combined.");
            }
            byCell.computeIfAbsent(r.cell(), k -> new HashMap<>()).put(ImageKey.of(r), r);
        }
        for (Experiment.Cell c : m.experiment().cells()) {
            Map<ImageKey, SampleRecord> rs = byCell.get(c.id());
            if (rs == null) {
                continue;
            }
            CellInfo info = m.cells().get(c.id());
            String defence = info == null ? c.defense() : info.defendedBy();
            groups.computeIfAbsent(new Key(defence, Threat.of(c.attack())), k -> new ArrayList<>())
                    .add(new Cell(label, c.id(), c.defense(), c.mode(), info == null ? "" : info.gradientMode(), rs));
        }
        // counted as the run's report counts them: every cell of the manifest, route cells included
        long expected = (long) m.images() * m.experiment().seeds().size() * m.cells().size();
        return new Run(label, m.experiment().name(), m.gitCommit(), records.size(), expected);
    }

    private static Group score(Key key, List<Cell> cells) {
        Set<ImageKey> shared = new HashSet<>(cells.get(0).records().keySet());
        cells.forEach(c -> shared.retainAll(c.records().keySet()));
        List<Member> members = new ArrayList<>();
        for (Cell c : cells) {
            int robust = 0;
            int alone = 0;
            for (ImageKey image : shared) {
                if (c.records().get(image).robust()) {
                    robust++;
                } else if (cells.stream().filter(o -> o != c).allMatch(o -> o.records().get(image).robust())) {
                    alone++;
                }
            }
            members.add(new Member(c.run(), c.id(), c.mode(), c.gradientMode(), c.records().size(), robust, alone));
        }
        List<Map<ImageKey, SampleRecord>> records = cells.stream().map(Cell::records).toList();
        WorstCase worst = shared.isEmpty() ? null : WorstCase.over(shared, records);
        Map<ImageKey, Boolean> robust = new HashMap<>();
        shared.forEach(image -> robust.put(image, WorstCase.robust(image, records)));
        return new Group(key.defence(), cells.stream().map(Cell::spec).distinct().toList(), key.threat(), members,
                worst, robust);
    }
}
