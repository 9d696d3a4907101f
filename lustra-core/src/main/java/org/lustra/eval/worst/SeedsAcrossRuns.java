package org.lustra.eval.worst;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.lustra.eval.CellInfo;
import org.lustra.eval.Manifest;
import org.lustra.eval.Report;
import org.lustra.eval.SampleRecord;
import org.lustra.util.LustraException;

/**
 * One cell's mean ± std over run seeds that live in several run folders ({@code lustra eval seeds}): a study that ran
 * seed 1 in one folder and seeds 2–3 in another has its three-seed number nowhere else. Cells are matched by id; a
 * cell whose threat model, budget or gradient route (EOT and K included) differs between folders is refused, as is a
 * run seed of one cell found in two folders (a seed counts once, it is never averaged with itself) and folders that
 * score different image counts (a mean over seeds needs the same images). The folders must name the same images with
 * the same models ({@link RunReader}). Route cells of worst-of cells ({@code …@EXACT}) are pooled like any other, so
 * each route's own number gets its spread too. Where a seed has fewer records than its folder's image count, or a
 * folder's seed has none yet, the cell is marked unfinished: its mean then mixes image sets or misses a seed.
 */
public final class SeedsAcrossRuns {
    private SeedsAcrossRuns() {}

    /** One run seed of a pooled cell: its folder, images scored of the images the folder runs, robust and clean. */
    public record SeedCount(String run, long seed, int images, int expected, int robust, int clean) {
        public SeedCount {
            if (images < 1 || expected < 1 || robust < 0 || robust > images || clean < 0 || clean > images) {
                throw new IllegalArgumentException("Invalid seed counts: " + robust + " robust and " + clean
                        + " clean of " + images + " images (need 1 ≤ images, 0 ≤ robust, clean ≤ images), "
                        + expected + " expected (need ≥ 1)");
            }
        }

        public boolean finished() {
            return images >= expected;
        }
    }

    /**
     * A cell over every seed of every folder: its seeds in seed order, the seeds its folders run but have not reached
     * for it yet, and its row scored as the harness scores one.
     */
    public record Pooled(String id, CellInfo info, List<SeedCount> seeds, List<Long> missingSeeds,
            Report.CellSummary summary, List<Strict> strict) {
        public Pooled {
            seeds = List.copyOf(seeds);
            missingSeeds = List.copyOf(missingSeeds);
            strict = List.copyOf(strict);
        }

        /** Every seed its folders run is in, each with all of its images. */
        public boolean finished() {
            return missingSeeds.isEmpty() && seeds.stream().allMatch(SeedCount::finished);
        }
    }

    /**
     * The stricter reading of a worst-of cell on one seed: an image counts robust only if the re-judged pick and every
     * route's own judging kept it. The harness judges the pick again with fresh votes (scoring it with the votes that
     * chose it would count the luckiest draw), so a borderline image a route alone fooled can come back robust; this
     * reading does not let it. Counted on the images every route and the pick have.
     */
    public record Strict(long seed, int images, int robust) {
        public Strict {
            if (images < 0 || robust < 0 || robust > images) {
                throw new IllegalArgumentException("Invalid strict counts: " + robust + " of " + images
                        + " (need 0 ≤ robust ≤ images)");
            }
        }
    }

    /** The pooled cells; {@code leftOut} counts journal records of cells their folder's manifest does not list. */
    public record Result(String classifier, String subset, List<CrossRunWorst.Run> runs, List<Pooled> cells,
            int leftOut) {
        public Result {
            runs = List.copyOf(runs);
            cells = List.copyOf(cells);
        }
    }

    /** Pools the cells of {@code dirs} (run folders of one study); one sentence when they cannot be pooled. */
    public static Result of(List<Path> dirs) {
        RunReader.Loaded loaded = RunReader.read(dirs); // one study: same images and models, no non-finite record
        requireSameImageCount(loaded.folders());
        Map<String, CellInfo> infos = new LinkedHashMap<>();
        Map<String, String> infoSource = new LinkedHashMap<>();
        // cell -> seed -> the folder it came from and its records, one per image (a redone image's last record)
        Map<String, Map<Long, Source>> bySeed = new LinkedHashMap<>();
        Map<String, List<Long>> expectedSeeds = new LinkedHashMap<>();
        int leftOut = 0;
        for (RunReader.Folder f : loaded.folders()) {
            Map<String, CellInfo> cells = f.manifest().cells() == null ? Map.of() : f.manifest().cells();
            for (SampleRecord r : f.records()) {
                CellInfo info = cells.get(r.cell());
                if (info == null) {
                    leftOut++;
                    continue;
                }
                if (infos.putIfAbsent(r.cell(), info) == null) {
                    infoSource.put(r.cell(), f.label());
                } else {
                    requireSameCell(r.cell(), infos.get(r.cell()), infoSource.get(r.cell()), info, f.label());
                }
                Source earlier = bySeed.computeIfAbsent(r.cell(), k -> new TreeMap<>()).computeIfAbsent(r.seed(),
                        k -> new Source(f.label(), f.manifest().images(), new TreeMap<>()));
                if (!earlier.run().equals(f.label())) {
                    throw new LustraException("Run seed " + r.seed() + " of cell " + r.cell() + " is in both "
                            + earlier.run() + " and " + f.label() + "; a seed counts once, so give only one of them.");
                }
                earlier.records().put(r.index(), r);
            }
            for (String cell : cells.keySet()) {
                expectedSeeds.computeIfAbsent(cell, k -> new ArrayList<>()).addAll(f.manifest().experiment().seeds());
            }
        }
        if (bySeed.isEmpty()) {
            throw new LustraException("None of " + dirs + " has records of the cells its manifest lists yet; nothing "
                    + "to pool.");
        }
        List<Pooled> out = new ArrayList<>();
        for (Map.Entry<String, Map<Long, Source>> e : bySeed.entrySet()) {
            out.add(pooled(e.getKey(), infos.get(e.getKey()), e.getValue(), expectedSeeds.get(e.getKey()),
                    strict(e.getKey(), bySeed)));
        }
        return new Result(loaded.classifier(), loaded.subset(), loaded.runs(), out, leftOut);
    }

    /** Where one seed of one cell came from, and its records by image index. */
    private record Source(String run, int expected, Map<Integer, SampleRecord> records) {}

    /** Per seed, the worst-of cell {@code id} read strictly against its route cells ({@code id@ROUTE}); else empty. */
    private static List<Strict> strict(String id, Map<String, Map<Long, Source>> bySeed) {
        List<Map<Long, Source>> routes = bySeed.entrySet().stream().filter(e -> e.getKey().startsWith(id + "@"))
                .map(Map.Entry::getValue).toList();
        if (routes.isEmpty()) {
            return List.of();
        }
        List<Strict> out = new ArrayList<>();
        bySeed.get(id).forEach((seed, pick) -> {
            int images = 0;
            int robust = 0;
            for (Map.Entry<Integer, SampleRecord> p : pick.records().entrySet()) {
                boolean all = p.getValue().robust();
                boolean complete = true;
                for (Map<Long, Source> route : routes) {
                    Source rs = route.get(seed);
                    SampleRecord r = rs == null ? null : rs.records().get(p.getKey());
                    complete &= r != null;
                    all &= r != null && r.robust();
                }
                images += complete ? 1 : 0;
                robust += complete && all ? 1 : 0;
            }
            out.add(new Strict(seed, images, robust));
        });
        return out;
    }

    private static Pooled pooled(String id, CellInfo info, Map<Long, Source> seeds, List<Long> expected,
            List<Strict> strict) {
        List<SampleRecord> all = new ArrayList<>();
        List<SeedCount> counts = new ArrayList<>();
        seeds.forEach((seed, src) -> {
            int robust = 0;
            int clean = 0;
            for (SampleRecord r : src.records().values()) {
                all.add(r);
                robust += r.robust() ? 1 : 0;
                clean += r.cleanCorrect() ? 1 : 0;
            }
            counts.add(new SeedCount(src.run(), seed, src.records().size(), src.expected(), robust, clean));
        });
        List<Long> missing = expected.stream().filter(s -> !seeds.containsKey(s)).distinct().sorted().toList();
        return new Pooled(id, info, counts, missing, Report.scoreCell(id, info, all), strict);
    }

    private static void requireSameImageCount(List<RunReader.Folder> folders) {
        RunReader.Folder first = folders.get(0);
        for (RunReader.Folder f : folders) {
            if (f.manifest().images() != first.manifest().images()) {
                throw new LustraException("Run folders " + first.label() + " and " + f.label() + " score different "
                        + "image counts (" + first.manifest().images() + " vs " + f.manifest().images() + "); a mean "
                        + "over seeds needs the same images, so give folders of one size.");
            }
        }
    }

    private static void requireSameCell(String id, CellInfo earlier, String earlierRun, CellInfo now, String run) {
        List<String> differ = new ArrayList<>();
        if (!Objects.equals(earlier.threatModel(), now.threatModel())) {
            differ.add("threat model");
        }
        if (!Objects.equals(earlier.budget(), now.budget())) {
            differ.add("budget");
        }
        if (!Objects.equals(earlier.gradientMode(), now.gradientMode())) {
            differ.add("gradient route");
        }
        if (!differ.isEmpty()) {
            throw new LustraException("Cell " + id + " ran with another " + String.join(" and ", differ) + " in "
                    + run + " than in " + earlierRun + ", so its seeds measure different attacks; pool folders made "
                    + "with the same settings.");
        }
    }
}
