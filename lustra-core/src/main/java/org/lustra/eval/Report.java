package org.lustra.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.lustra.util.Files2;
import org.lustra.util.Json;
import org.lustra.util.LustraException;

/**
 * Aggregates {@code samples.jsonl} of a run directory into {@code report.md}, {@code report.csv}, {@code report.json}
 * and {@code figures/} (charts by {@link Figures}, labelled example panels by {@link ExamplePanels}): per cell, clean
 * and robust accuracy as mean ± std over the run seeds, a 95 % Wilson interval on the pooled images,
 * PSNR/SSIM/distances of the adversarial inputs, PSNR/SSIM of the purified images against the clean ones, time and
 * forward passes per image, the gradient mode and threat model; then the sanity checks every robustness table must
 * pass.
 */
public final class Report {

    /**
     * One row of the report. {@code gradientRows} etc. count the attack's per-chunk gradients; a universal patch's
     * one-off training is counted apart, once per patch: {@code universalPatches} (the patches the cell used, one per
     * run seed and route; null for attacks without one) and {@code patchTrainingGradients} (their training's gradient
     * rows, summed; null when not recorded, as in runs made before 1 December). {@code psnr} and {@code ssim} compare
     * the adversarial input with the clean image; {@code purified} holds the means over images of the purified
     * images' fidelity to the clean image (PSNR over the finite values; null for the undefended classifier and for
     * records made before it was measured).
     */
    public record CellSummary(String cell, String defense, String mode, String attack, String budget,
            String gradientMode, String threatModel, int images, int runs, double cleanAccuracy, double robustMean,
            double robustStd, double ciLow, double ciHigh, Double anyCopyRobust, double psnr, double ssim,
            double maxLinf, double maxL2, double msPerImage, double forwardPerImage, Double singleRobust,
            long nonFiniteInputs, long invalidPatches, long uncheckedPatches, long gradientRows,
            long nonFiniteGradients, long zeroGradients, List<String> warnings, Integer universalPatches,
            Long patchTrainingGradients, SampleRecord.Fidelity purified) {}

    /** A sanity relation and whether it held. */
    public record Check(String relation, boolean passed, String detail) {}

    public record Summary(String experiment, String profile, String classifier, String gitCommit, String created,
            List<Long> seeds, List<CellSummary> cells, List<Check> checks, long evaluated, long expected,
            List<String> history) {
        public boolean complete() {
            return evaluated >= expected;
        }
    }

    private Report() {}

    public static Summary summarise(Path dir) {
        RunDirectory run = new RunDirectory(dir);
        if (!run.hasResults()) {
            throw new LustraException(dir + " has no results (" + RunDirectory.MANIFEST + " and "
                    + RunDirectory.SAMPLES + "); run `lustra eval run <config>` first.");
        }
        Manifest manifest = run.readManifest();
        Map<String, List<SampleRecord>> byCell = new LinkedHashMap<>();
        for (String id : manifest.cells().keySet()) {
            byCell.put(id, new ArrayList<>());
        }
        for (SampleRecord r : run.readRecords()) {
            byCell.computeIfAbsent(r.cell(), k -> new ArrayList<>()).add(r);
        }
        long evaluated = byCell.values().stream().mapToLong(List::size).sum();
        long expected = (long) manifest.images() * manifest.experiment().seeds().size() * manifest.cells().size();
        List<CellSummary> rows = new ArrayList<>();
        for (Map.Entry<String, List<SampleRecord>> e : byCell.entrySet()) {
            if (!e.getValue().isEmpty()) {
                Set<Long> seeds = new TreeSet<>(e.getValue().stream().map(SampleRecord::seed).toList());
                rows.add(cell(e.getKey(), manifest.cells().get(e.getKey()), e.getValue(),
                        UniversalPatches.trainingCost(run, manifest, e.getKey(), seeds)));
            }
        }
        return new Summary(manifest.experiment().name(), manifest.experiment().profile(), manifest.classifier(),
                manifest.gitCommit(), manifest.created(), manifest.experiment().seeds(), rows,
                SanityChecks.of(rows, SanityChecks.attacks(manifest)), evaluated, expected, manifest.history());
    }

    /**
     * One cell's row from its records, scored as {@link #summarise} scores it (without AdvP's training cost), for
     * readers of a run that has no report yet (e.g. {@code lustra eval table1} on an unfinished run).
     */
    public static CellSummary scoreCell(String id, CellInfo info, List<SampleRecord> recs) {
        return cell(id, info, recs, null);
    }

    /** One cell's row from its records and, for AdvP, its patches' training cost (else null). */
    private static CellSummary cell(String id, CellInfo info, List<SampleRecord> recs,
            UniversalPatches.TrainingCost training) {
        Map<Long, long[]> perSeed = new TreeMap<>(); // seed -> {n, clean, robust}
        long n = 0;
        long clean = 0;
        long robust = 0;
        long anyRobust = 0;
        boolean randomised = false;
        double psnr = 0;
        int psnrCount = 0;
        double ssim = 0;
        double maxLinf = 0;
        double maxL2 = 0;
        List<Double> ms = new ArrayList<>();
        double fwd = 0;
        long single = 0;
        boolean hasSingle = false;
        Health health = new Health();
        FidelityMean fidelity = new FidelityMean();
        for (SampleRecord r : recs) {
            fidelity.add(r.purified());
            single += r.singleDrawRobust() ? 1 : 0;
            hasSingle |= r.singleRobust() != null;
            health.add(r);
            long[] s = perSeed.computeIfAbsent(r.seed(), k -> new long[3]);
            s[0]++;
            s[1] += r.cleanCorrect() ? 1 : 0;
            s[2] += r.robust() ? 1 : 0;
            n++;
            clean += r.cleanCorrect() ? 1 : 0;
            robust += r.robust() ? 1 : 0;
            if (r.anyCopyFooled() != null) {
                randomised = true;
                anyRobust += r.anyCopyFooled() ? 0 : 1;
            }
            if (Double.isFinite(r.psnr())) {
                psnr += r.psnr();
                psnrCount++;
            }
            ssim += r.ssim();
            maxLinf = Math.max(maxLinf, r.distLinf());
            maxL2 = Math.max(maxL2, r.distL2());
            ms.add(r.msPerImage());
            fwd += r.forwardImagesPerImage();
        }
        double[] acc = perSeed.values().stream().mapToDouble(s -> (double) s[2] / s[0]).toArray();
        double mean = Arrays.stream(acc).average().orElse(Double.NaN);
        double var = 0;
        for (double a : acc) {
            var += (a - mean) * (a - mean);
        }
        double std = acc.length > 1 ? Math.sqrt(var / (acc.length - 1)) : 0;
        double[] ci = Metrics.wilson(robust, n);
        long[] g = health.gradients();
        return new CellSummary(id, info.defense(), info.mode(), info.attack(), info.budget(), info.gradientMode(),
                info.threatModel(), (int) (n / perSeed.size()), perSeed.size(), (double) clean / n, mean, std, ci[0],
                ci[1], randomised ? (double) anyRobust / n : null, psnrCount > 0 ? psnr / psnrCount
                        : Double.POSITIVE_INFINITY, ssim / n, maxLinf, maxL2, median(ms), fwd / n,
                hasSingle ? (double) single / n : null, health.nonFinite, health.invalidPatches,
                health.uncheckedPatches, g[0], g[1], g[2], health.warnings(training),
                training == null ? null : training.patches(), training == null ? null : training.gradientRows(),
                fidelity.mean());
    }

    /** Means of the records' purified-image fidelity; PSNR over finite values (identical images give +∞). */
    private static final class FidelityMean {
        private final double[] sum = new double[4];
        private final int[] count = new int[4];

        void add(SampleRecord.Fidelity f) {
            if (f == null) {
                return;
            }
            double[] v = {f.psnr(), f.ssim(), f.cleanPsnr(), f.cleanSsim()};
            for (int k = 0; k < 4; k++) {
                if (Double.isFinite(v[k])) {
                    sum[k] += v[k];
                    count[k]++;
                }
            }
        }

        SampleRecord.Fidelity mean() {
            if (count[1] == 0) {
                return null;
            }
            double[] m = new double[4];
            for (int k = 0; k < 4; k++) {
                m[k] = count[k] > 0 ? sum[k] / count[k] : Double.POSITIVE_INFINITY;
            }
            return new SampleRecord.Fidelity(m[0], m[1], m[2], m[3]);
        }
    }

    /** Non-finite inputs, patch validity and gradient health of one cell's records, and the warnings they give. */
    private static final class Health {
        long nonFinite;
        long invalidPatches;
        long uncheckedPatches;
        private final Map<String, long[]> gradientsByChunk = new LinkedHashMap<>();

        void add(SampleRecord r) {
            boolean bad = Boolean.TRUE.equals(r.nonFinite()) || !Double.isFinite(r.distLinf())
                    || !Double.isFinite(r.distL2());
            nonFinite += bad ? 1 : 0;
            if (r.patchArea() != null) {
                if (r.patchValid() == null) {
                    uncheckedPatches++;
                } else if (!r.patchValid()) {
                    invalidPatches++;
                }
            }
            if (r.chunkGradientRows() != null) {
                gradientsByChunk.put(r.seed() + "#" + r.chunk(), new long[] {r.chunkGradientRows(),
                    r.chunkNonFiniteGradients(), r.chunkZeroGradients()});
            }
        }

        /** {rows, non-finite rows, zero rows}, each chunk counted once. */
        long[] gradients() {
            long[] g = new long[3];
            gradientsByChunk.values().forEach(v -> {
                g[0] += v[0];
                g[1] += v[1];
                g[2] += v[2];
            });
            return g;
        }

        List<String> warnings(UniversalPatches.TrainingCost training) {
            long[] g = gradients();
            List<String> warnings = new ArrayList<>();
            if (training != null && training.nonFiniteGradients() != null && training.nonFiniteGradients() > 0) {
                warnings.add(training.nonFiniteGradients() + " of " + training.gradientRows() + " patch-training "
                        + "gradient rows were non-finite (zeroed, no step taken)");
            }
            if (g[1] > 0) {
                warnings.add(g[1] + " of " + g[0] + " gradient rows were non-finite (zeroed, no step taken)");
            }
            // "more than a few": 2 % of rows — a cut graph or a saturated purifier makes the number meaningless
            if (g[0] > 0 && g[2] > Math.max(2, 0.02 * g[0])) {
                warnings.add(g[2] + " of " + g[0] + " gradient rows were exactly zero (cut graph or masked "
                        + "gradients?)");
            }
            if (nonFinite > 0) {
                warnings.add(nonFinite + " adversarial input(s) had non-finite pixels (failed attacks, scored clean)");
            }
            return warnings;
        }
    }

    /** Median: robust to chunks that ran while the machine was busy with something else. */
    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        int n = s.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** Writes report.md, report.csv, report.json and the figures; returns the summary. */
    public static Summary write(Path dir) {
        Summary s = summarise(dir);
        Map<String, Experiment.AttackSpec> attacks = SanityChecks.attacks(new RunDirectory(dir).readManifest());
        Json.writeAtomically(dir.resolve("report.json"), s);
        StringBuilder csv = new StringBuilder("cell,defense,mode,attack,budget,gradient_mode,images,runs,"
                + "clean_accuracy,robust_mean,robust_std,ci95_low,ci95_high,any_copy_robust,psnr_db,ssim,max_linf,"
                + "max_l2,ms_per_image,forward_per_image,single_robust,non_finite_inputs,invalid_patches,"
                + "gradient_rows,non_finite_gradients,zero_gradients,universal_patches,patch_training_gradients,"
                + "purified_psnr_db,purified_ssim,purified_clean_psnr_db,purified_clean_ssim\n");
        for (CellSummary r : s.cells()) {
            csv.append(String.join(",", q(r.cell()), q(r.defense()), q(r.mode()), q(r.attack()), q(r.budget()),
                    q(r.gradientMode()), "" + r.images(), "" + r.runs(), f(r.cleanAccuracy()), f(r.robustMean()),
                    f(r.robustStd()), f(r.ciLow()), f(r.ciHigh()), r.anyCopyRobust() == null ? "" : f(r.anyCopyRobust()),
                    f(r.psnr()), f(r.ssim()), f(r.maxLinf()), f(r.maxL2()), f(r.msPerImage()),
                    f(r.forwardPerImage()), r.singleRobust() == null ? "" : f(r.singleRobust()),
                    "" + r.nonFiniteInputs(), "" + r.invalidPatches(), "" + r.gradientRows(),
                    "" + r.nonFiniteGradients(), "" + r.zeroGradients(),
                    r.universalPatches() == null ? "" : "" + r.universalPatches(),
                    r.patchTrainingGradients() == null ? "" : "" + r.patchTrainingGradients(),
                    r.purified() == null ? "" : f(r.purified().psnr()), r.purified() == null ? "" : f(r.purified().ssim()),
                    r.purified() == null ? "" : f(r.purified().cleanPsnr()),
                    r.purified() == null ? "" : f(r.purified().cleanSsim()))).append('\n');
        }
        Files2.writeAtomically(dir.resolve("report.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
        List<String> figures = figures(dir, s, attacks);
        List<String> examples = ExamplePanels.write(dir, s);
        Files2.writeAtomically(dir.resolve("report.md"), markdown(s, figures, examples, dir)
                .getBytes(StandardCharsets.UTF_8));
        return s;
    }

    private static List<String> figures(Path dir, Summary s, Map<String, Experiment.AttackSpec> attacks) {
        Map<String, List<Figures.Series>> byNorm = new LinkedHashMap<>();
        Map<String, TreeMap<Double, Double>> lines = new LinkedHashMap<>();
        for (CellSummary r : s.cells()) {
            Experiment.AttackSpec p = SanityChecks.lp(r, attacks);
            if (p != null) {
                lines.computeIfAbsent(p.norm() + "|" + r.defense() + " " + (r.mode().equals("none") ? "" : r.mode()
                        + " ") + p.family(), k -> new TreeMap<>()).put(p.eps(), r.robustMean());
            }
        }
        for (Map.Entry<String, TreeMap<Double, Double>> e : lines.entrySet()) {
            String norm = e.getKey().substring(0, e.getKey().indexOf('|'));
            double[] x = e.getValue().keySet().stream().mapToDouble(Double::doubleValue).toArray();
            double[] y = e.getValue().values().stream().mapToDouble(Double::doubleValue).toArray();
            if (x.length >= 2) {
                byNorm.computeIfAbsent(norm, k -> new ArrayList<>()).add(new Figures.Series(
                        e.getKey().substring(e.getKey().indexOf('|') + 1), x, y));
            }
        }
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, List<Figures.Series>> e : byNorm.entrySet()) {
            String name = "figures/robust-vs-eps-" + e.getKey() + ".png";
            Figures.lineChart(dir.resolve(name), "Robust accuracy vs " + e.getKey() + " budget (" + s.classifier()
                    + ")", "eps (" + e.getKey() + ")", e.getValue());
            out.add(name);
        }
        return out;
    }

    private static String markdown(Summary s, List<String> figures, List<String> examples, Path dir) {
        StringBuilder md = new StringBuilder();
        md.append("# ").append(s.experiment()).append("\n\n");
        md.append(String.format(Locale.ROOT, "Profile **%s**, classifier `%s`, run seeds %s, git commit `%s`, "
                + "created %s. Produced by `lustra eval run`; regenerate with `lustra eval report <dir>`.%n%n",
                s.profile(), s.classifier(), s.seeds(), s.gitCommit(), s.created()));
        if (!s.history().isEmpty()) {
            md.append("Cells recomputed later (`lustra eval run --redo`), with the code of the commit named:\n\n");
            s.history().forEach(h -> md.append("- ").append(h).append('\n'));
            md.append('\n');
        }
        if (!s.complete()) {
            md.append(String.format(Locale.ROOT, "> **Incomplete run:** %d of %d image evaluations are done (cells "
                    + "with fewer images × runs than the others are partial, cells not listed have not started). "
                    + "Rerun the same `lustra eval run` command with this directory as `--out` to resume.%n%n",
                    s.evaluated(), s.expected()));
        }
        md.append("Robust accuracy is the defended model's accuracy on the attack's final inputs, mean ± std over the "
                + "runs (std 0 with one run); the 95 % interval is Wilson's on all images of all runs. For randomised "
                + "defences the prediction is the majority of K evaluations, and the any-copy column counts an image "
                + "robust only if no evaluation was fooled. Time per image is the attack's wall time per image of its chunk, "
                + "median over chunks (a chunk that shared the CPU with other work runs slower); for AdvP it is the pasting only — the "
                + "universal patch's one-off training time is in `patches/*.info.json`, and its training gradients "
                + "(rows: one per training image per step, over every target trained) are counted once per patch in "
                + "the *training gradients* column, never in the per-image records.\n\n");
        md.append("Three scores per cell (harness v2): **single** — the first of the K evaluations alone; **robust** — "
                + "the majority of K (a tie counts as fooled; the number the tables quote); **any-of-K** — robust only "
                + "if all K evaluations are right, the worst case over K re-submissions. They coincide for "
                + "deterministic defences. Against randomised defences attacks run to full length and keep the iterate "
                + "with the best EOT objective.\n\n");
        appendCellTable(md, s);
        md.append(pairedSection(dir));
        Path notes = dir.resolve("NOTES.md");
        if (Files.isRegularFile(notes)) {
            // hand-written notes of the run (what moved against an earlier run and why), kept across regenerations
            try {
                md.append("## Notes\n\n").append(Files.readString(notes, StandardCharsets.UTF_8).trim()).append("\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        md.append("\n## Threat models\n\n");
        Set<String> seen = new LinkedHashSet<>();
        for (CellSummary r : s.cells()) {
            seen.add(r.threatModel());
        }
        seen.forEach(t -> md.append("- ").append(t).append('\n'));
        md.append("\n## Sanity checks\n\n");
        for (Check c : s.checks()) {
            md.append("- ").append(c.passed() ? "PASS" : "**FAIL**").append(" — ").append(c.relation()).append(": ")
                    .append(c.detail()).append('\n');
        }
        if (!figures.isEmpty()) {
            md.append("\n## Figures\n\n");
            figures.forEach(f -> md.append("![").append(f).append("](").append(f).append(")\n"));
        }
        if (!examples.isEmpty()) {
            md.append("\n## Examples\n\nThe first images of each cell (rows: clean, adversarial and, behind a defence, "
                    + "purified), enlarged; the true class above, predictions below. The unscaled images are in "
                    + "`examples/`.\n");
            for (String f : examples) {
                String cell = f.substring(f.lastIndexOf('/') + 1, f.length() - ".png".length());
                md.append("\n![").append(cell).append("](").append(f).append(")\n");
            }
        }
        return md.toString();
    }

    /** The paired comparison of a run whose rows share their draws, else nothing. */
    private static String pairedSection(Path dir) {
        RunDirectory run = new RunDirectory(dir);
        Manifest manifest = run.readManifest();
        Experiment exp = manifest.experiment();
        return exp.pairedRows() ? PairedRows.markdown(PairedRows.of(manifest, run.readRecords()),
                exp.fullLengthNonAdaptive()) : "";
    }

    /** One row per cell: the scores, their interval, image quality, time and warnings. */
    private static void appendCellTable(StringBuilder md, Summary s) {
        md.append("| defence | mode | attack | budget | gradient mode | images × runs | clean | single | robust | 95 % CI "
                + "| any-of-K | PSNR dB | SSIM | purified PSNR / SSIM (adv · clean) | ms/img (median) | training gradients "
                + "| warnings |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (CellSummary r : s.cells()) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %d × %d | %.2f%% | %s | %.2f ± %.2f%% | "
                    + "%.1f–%.1f%% | %s | %.1f | %.3f | %s | %.1f | %s | %s |%n", r.defense(), r.mode(), r.attack(), r.budget(),
                    r.gradientMode(), r.images(), r.runs(), 100 * r.cleanAccuracy(),
                    r.singleRobust() == null ? "–" : String.format(Locale.ROOT, "%.2f%%", 100 * r.singleRobust()),
                    100 * r.robustMean(), 100 * r.robustStd(), 100 * r.ciLow(), 100 * r.ciHigh(),
                    r.anyCopyRobust() == null ? "–" : String.format(Locale.ROOT, "%.2f%%", 100 * r.anyCopyRobust()),
                    r.psnr(), r.ssim(), fidelity(r.purified()), r.msPerImage(), trainingGradients(r), r.warnings() == null || r.warnings().isEmpty() ? ""
                            : String.join("; ", r.warnings())));
        }
    }

    /** The purified-fidelity cell: "29.1 / 0.912 · 31.0 / 0.950", or "–" without a purifier or measurement. */
    private static String fidelity(SampleRecord.Fidelity f) {
        return f == null ? "–" : String.format(Locale.ROOT, "%.1f / %.3f · %.1f / %.3f", f.psnr(), f.ssim(),
                f.cleanPsnr(), f.cleanSsim());
    }

    /** The training-gradients cell: "–" without a universal patch, else the rows and the patches they trained. */
    private static String trainingGradients(CellSummary r) {
        if (r.universalPatches() == null) {
            return "–";
        }
        String of = r.universalPatches() == 1 ? "1 patch" : r.universalPatches() + " patches";
        return r.patchTrainingGradients() == null ? "not recorded (" + of + ")"
                : String.format(Locale.ROOT, "%,d (%s)", r.patchTrainingGradients(), of);
    }

    private static String q(String s) {
        return "\"" + (s == null ? "" : s.replace("\"", "\"\"")) + "\"";
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }
}
