package org.lustra.eval.worst;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.lustra.eval.CellInfo;
import org.lustra.eval.Manifest;
import org.lustra.eval.Report;
import org.lustra.eval.RunDirectory;
import org.lustra.eval.SampleRecord;
import org.lustra.util.LustraException;

/**
 * One cell's mean ± std over run seeds that live in several run folders ({@code lustra eval seeds}): a study that ran
 * seed 1 in one folder and seeds 2–3 in another has its three-seed number nowhere else. A cell is pooled only where
 * its id, threat model, budget and gradient route (EOT and K included) are the same in every folder, and a run seed
 * counts once: the same seed of one cell in two folders is refused, not averaged. The folders must name the same
 * images with the same models ({@link RunReader}). Route cells of worst-of cells ({@code …@EXACT}) are pooled like
 * any other, so each route's own number gets its spread too.
 */
public final class SeedsAcrossRuns {
    private SeedsAcrossRuns() {}

    /** One run seed of a pooled cell: the folder it came from, images scored and how many of them stayed robust. */
    public record SeedCount(String run, long seed, int images, int robust, int clean) {
        public SeedCount {
            if (images < 1 || robust < 0 || robust > images || clean < 0 || clean > images) {
                throw new IllegalArgumentException("Invalid seed counts: " + robust + " robust and " + clean
                        + " clean of " + images + " images");
            }
        }
    }

    /** A cell over every seed of every folder: its seeds in seed order and its row scored as the harness scores one. */
    public record Pooled(String id, CellInfo info, List<SeedCount> seeds, Report.CellSummary summary) {
        /** Whether every seed scored the same number of images (an unfinished seed makes the mean mix image sets). */
        public boolean even() {
            return seeds.stream().mapToInt(SeedCount::images).distinct().count() == 1;
        }
    }

    public record Result(String classifier, String subset, List<CrossRunWorst.Run> runs, List<Pooled> cells) {}

    public static Result of(List<Path> dirs) {
        RunReader.Loaded loaded = RunReader.read(dirs); // one study: same images and models, no non-finite record
        Map<String, CellInfo> infos = new LinkedHashMap<>();
        Map<String, List<SampleRecord>> records = new LinkedHashMap<>();
        Map<String, Map<Long, String>> seedSource = new LinkedHashMap<>(); // cell -> seed -> folder
        for (Path dir : dirs) {
            String label = dir.toString();
            RunDirectory run = new RunDirectory(dir);
            Manifest m = run.readManifest();
            Map<String, List<SampleRecord>> byCell = new LinkedHashMap<>();
            if (Files.isRegularFile(run.samplesFile())) { // none yet: a run that has not finished a chunk
                for (SampleRecord r : run.readWholeRecords(n -> { })) {
                    byCell.computeIfAbsent(r.cell(), k -> new ArrayList<>()).add(r);
                }
            }
            Map<String, CellInfo> cells = m.cells() == null ? Map.of() : m.cells();
            for (Map.Entry<String, CellInfo> e : cells.entrySet()) {
                List<SampleRecord> rs = byCell.get(e.getKey());
                if (rs == null) {
                    continue;
                }
                requireSameCell(e.getKey(), infos.get(e.getKey()), e.getValue(), label);
                infos.putIfAbsent(e.getKey(), e.getValue());
                Map<Long, String> sources = seedSource.computeIfAbsent(e.getKey(), k -> new TreeMap<>());
                for (SampleRecord r : rs) {
                    String earlier = sources.putIfAbsent(r.seed(), label);
                    if (earlier != null && !earlier.equals(label)) {
                        throw new LustraException("Run seed " + r.seed() + " of cell " + e.getKey() + " is in both "
                                + earlier + " and " + label + "; a seed counts once, so give only one of them.");
                    }
                }
                records.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).addAll(rs);
            }
        }
        if (records.isEmpty()) {
            throw new LustraException("None of " + dirs + " has finished records yet; nothing to pool.");
        }
        List<Pooled> out = new ArrayList<>();
        for (Map.Entry<String, List<SampleRecord>> e : records.entrySet()) {
            CellInfo info = infos.get(e.getKey());
            out.add(new Pooled(e.getKey(), info, seedCounts(e.getValue(), seedSource.get(e.getKey())),
                    Report.scoreCell(e.getKey(), info, e.getValue())));
        }
        return new Result(loaded.classifier(), loaded.subset(), loaded.runs(), out);
    }

    private static void requireSameCell(String id, CellInfo earlier, CellInfo now, String label) {
        if (earlier == null) {
            return;
        }
        List<String> differ = new ArrayList<>();
        if (!earlier.threatModel().equals(now.threatModel())) {
            differ.add("threat model");
        }
        if (!earlier.budget().equals(now.budget())) {
            differ.add("budget");
        }
        if (!earlier.gradientMode().equals(now.gradientMode())) {
            differ.add("gradient route");
        }
        if (!differ.isEmpty()) {
            throw new LustraException("Cell " + id + " in " + label + " ran with another " + String.join(" and ",
                    differ) + " than in an earlier folder, so its seeds measure different attacks; pool folders "
                    + "made with the same settings.");
        }
    }

    private static List<SeedCount> seedCounts(List<SampleRecord> rs, Map<Long, String> sources) {
        Map<Long, int[]> counts = new TreeMap<>(); // seed -> {images, robust, clean}
        for (SampleRecord r : rs) {
            int[] c = counts.computeIfAbsent(r.seed(), k -> new int[3]);
            c[0]++;
            c[1] += r.robust() ? 1 : 0;
            c[2] += r.cleanCorrect() ? 1 : 0;
        }
        List<SeedCount> out = new ArrayList<>();
        counts.forEach((seed, c) -> out.add(new SeedCount(sources.get(seed), seed, c[0], c[1], c[2])));
        return out;
    }

    /** The pooled cells as Markdown, with the command that made it and the folders it read. */
    public static String markdown(Result r, String command) {
        StringBuilder b = new StringBuilder("# Mean ± std over run seeds across run folders\n\n");
        b.append("Generated by `").append(command).append("`; do not edit by hand. Classifier `").append(r.classifier())
                .append("` on `").append(r.subset()).append("`. Robust accuracy is the majority of K votes, per run "
                        + "seed, then mean ± std over the seeds (sample std; 0 with one seed); the 95 % interval is "
                        + "Wilson's on all images of all seeds; single and any-of-K pooled over every image. A cell "
                        + "marked *uneven* has seeds with different image counts (an unfinished run): its mean mixes "
                        + "image sets.\n\n");
        b.append("| folder | experiment | commit | records |\n|---|---|---|---:|\n");
        for (CrossRunWorst.Run run : r.runs()) {
            b.append(String.format(Locale.ROOT, "| `%s` | %s | `%.7s` | %d of %d |%n", run.label(), run.experiment(),
                    run.gitCommit(), run.records(), run.expected()));
        }
        b.append("\n| cell | seeds | clean | single | majority, mean ± std | 95 % CI | any-of-K | per seed: robust / "
                + "images (folder) |\n|---|---|---:|---:|---:|---|---:|---|\n");
        for (Pooled p : r.cells()) {
            Report.CellSummary s = p.summary();
            List<String> per = new ArrayList<>();
            for (SeedCount c : p.seeds()) {
                per.add(c.seed() + ": " + c.robust() + " / " + c.images() + " (`" + c.run() + "`)");
            }
            b.append(String.format(Locale.ROOT, "| `%s` | %d%s | %s | %s | **%.1f ± %.1f** | %.1f–%.1f | %s "
                    + "| %s |%n", escape(p.id()), p.seeds().size(), p.even() ? "" : " (*uneven*)",
                    percent(s.cleanAccuracy()), percent(s.singleRobust()), 100 * s.robustMean(), 100 * s.robustStd(),
                    100 * s.ciLow(), 100 * s.ciHigh(), percent(s.anyCopyRobust()), String.join(" · ", per)));
        }
        b.append("\n## Gradient route of each cell (the same in every folder)\n\n| cell | gradient route |\n"
                + "|---|---|\n");
        for (Pooled p : r.cells()) {
            b.append("| `").append(escape(p.id())).append("` | ").append(escape(p.info().gradientMode()))
                    .append(" |\n");
        }
        return b.toString();
    }

    private static String escape(String cellText) {
        return cellText.replace("|", "\\|");
    }

    private static String percent(Double v) {
        return v == null ? "–" : String.format(Locale.ROOT, "%.1f", 100 * v);
    }
}
