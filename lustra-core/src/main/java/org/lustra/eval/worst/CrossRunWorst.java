package org.lustra.eval.worst;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lustra.eval.CellInfo;

/**
 * The per-image worst case over every attack tried on a defence, across run folders ({@code lustra eval worst}): cells
 * of one defence and one {@link Threat} form a group, whatever their attack, mode, run and run seed, and an image
 * counts as robust only if it survived each of them. The harness scores each cell alone, so a study that ran the
 * adaptive attacks in one folder and the non-adaptive (transferred) ones in another has two numbers where the attacker
 * has one: on the shuffled digits DISCO kept 25 of 64 images under white-box PGD-200 but 9 under the worst of it and
 * transfer (3 December), counted by hand then.
 *
 * <p>A defence is known by the name it ran under ({@link CellInfo#defendedBy}: the purifier and its settings), not by
 * its spec: {@code hetero} meant other settings before a default changed. An image is its index in the subset (the runs
 * must read one subset, {@link RunReader}): the same index under several run seeds is the same image attacked again,
 * each seed one more try. A group is scored on the images every member has; unfinished runs join with the records they
 * have. Route cells of worst-of cells are left out: their cell already keeps each image's worst route.
 */
public final class CrossRunWorst {
    private CrossRunWorst() {}

    /** One run folder: as the user named it, its experiment, commit, how far it got and torn journal lines skipped. */
    public record Run(String label, String experiment, String gitCommit, long records, long expected, int tornLines) {
        public Run {
            if (records < 0 || expected < 0 || tornLines < 0) {
                throw new IllegalArgumentException("Invalid run counts: " + records + " records of " + expected
                        + ", " + tornLines + " torn lines (none below 0)");
            }
        }
    }

    /**
     * One cell of one run within a group: its images and run seeds, and on the group's shared images how many it left
     * robust (majority of K, every seed) and how many it alone fooled (every other member left them robust).
     */
    public record Member(String run, String cell, String mode, String attack, String gradientMode, int images,
            int seeds, int robustOnShared, int fooledOnlyHere) {
        public Member {
            if (images < 1 || seeds < 1 || robustOnShared < 0 || fooledOnlyHere < 0
                    || robustOnShared + fooledOnlyHere > images) {
                throw new IllegalArgumentException("Invalid member counts of " + cell + ": " + images + " images, "
                        + seeds + " seeds, " + robustOnShared + " robust, " + fooledOnlyHere + " fooled only here");
            }
        }

        /** Whether the attack saw the defence. */
        public boolean adaptive() {
            return mode.equals("adaptive");
        }
    }

    /**
     * One defence under one threat: its members and their worst case (null when they share no image). {@code defence}
     * is the defence as it ran ({@link CellInfo#defendedBy}), {@code specs} the specs the runs wrote for it.
     */
    public record Group(String defence, List<String> specs, Threat threat, List<Member> members, WorstCase worst) {
        public Group {
            specs = List.copyOf(specs);
            members = List.copyOf(members);
        }

        /** Some cell attacked through the defence: else the row is only what transferred attacks leave. */
        public boolean attackedAdaptively() {
            return members.stream().anyMatch(Member::adaptive);
        }

        public boolean undefended() {
            return defence.equals("none");
        }
    }

    public record Result(String classifier, String subset, List<Run> runs, List<Group> groups,
            List<Comparisons.Comparison> comparisons) {
        public Result {
            runs = List.copyOf(runs);
            groups = List.copyOf(groups);
            comparisons = List.copyOf(comparisons);
        }
    }

    /** The worst case of every defence and threat in {@code dirs} (labelled as given). */
    public static Result of(List<Path> dirs) {
        RunReader.Loaded loaded = RunReader.read(dirs);
        // defences in the order they first appear, each one's threats by norm and size
        List<String> defences = loaded.groups().keySet().stream().map(RunReader.Key::defence).distinct().toList();
        List<RunReader.Key> keys = loaded.groups().keySet().stream().sorted(Comparator.comparingInt(
                (RunReader.Key k) -> defences.indexOf(k.defence())).thenComparing(k -> k.threat().norm())
                .thenComparingDouble(k -> k.threat().size())).toList();
        List<Group> groups = keys.stream().map(k -> score(k, loaded.groups().get(k))).toList();
        // the undefended rows (mode "none") meet no attack a defended row meets: they pair with nothing
        List<Comparisons.Comparison> pairs = Comparisons.of(keys.stream().map(k -> Map.entry(k,
                loaded.groups().get(k))).toList());
        return new Result(loaded.classifier(), loaded.subset(), loaded.runs(), groups, pairs);
    }

    /** The image indices every cell has. */
    static Set<Integer> shared(List<TriedCell> cells) {
        Set<Integer> shared = new HashSet<>(cells.get(0).indices());
        cells.forEach(c -> shared.retainAll(c.indices()));
        return shared;
    }

    private static Group score(RunReader.Key key, List<TriedCell> cells) {
        Set<Integer> shared = shared(cells);
        List<Member> members = new ArrayList<>();
        for (TriedCell c : cells) {
            int robust = 0;
            int alone = 0;
            for (int image : shared) {
                if (c.robust(image)) {
                    robust++;
                } else if (cells.stream().filter(o -> o != c).allMatch(o -> o.robust(image))) {
                    alone++;
                }
            }
            members.add(new Member(c.run(), c.id(), c.mode(), c.attack(), c.gradientMode(), c.indices().size(),
                    c.bySeed().size(), robust, alone));
        }
        WorstCase worst = shared.isEmpty() ? null
                : WorstCase.over(shared, cells.stream().flatMap(c -> c.tries().stream()).toList());
        return new Group(key.defence(), cells.stream().map(TriedCell::spec).distinct().toList(), key.threat(), members,
                worst);
    }
}
