package org.lustra.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.lustra.util.Files2;
import org.lustra.util.Json;
import org.lustra.util.LustraException;

/**
 * Aggregates {@code samples.jsonl} of a run directory into {@code report.md}, {@code report.csv}, {@code report.json}
 * and {@code figures/*.png}: per cell, clean and robust accuracy as mean ± std over the run seeds, a 95 % Wilson
 * interval on the pooled images, PSNR/SSIM/distances of the adversarial inputs, time and forward passes per image, the
 * gradient mode and threat model; then the sanity checks every robustness table must pass.
 */
public final class Report {

    /** One row of the report. */
    public record CellSummary(String cell, String defense, String mode, String attack, String budget,
            String gradientMode, String threatModel, int images, int runs, double cleanAccuracy, double robustMean,
            double robustStd, double ciLow, double ciHigh, Double anyCopyRobust, double psnr, double ssim,
            double maxLinf, double maxL2, double msPerImage, double forwardPerImage, Double singleRobust,
            long nonFiniteInputs, long invalidPatches, long uncheckedPatches, long gradientRows,
            long nonFiniteGradients, long zeroGradients, List<String> warnings) {}

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
        Path mf = dir.resolve(ExperimentRunner.MANIFEST);
        Path samples = dir.resolve(ExperimentRunner.SAMPLES);
        if (!Files.exists(mf) || !Files.exists(samples)) {
            throw new LustraException(dir + " has no results (" + ExperimentRunner.MANIFEST + " and "
                    + ExperimentRunner.SAMPLES + "); run `lustra eval run <config>` first.");
        }
        ExperimentRunner.Manifest manifest = Json.read(mf, ExperimentRunner.Manifest.class);
        Map<String, List<SampleRecord>> byCell = new LinkedHashMap<>();
        for (String id : manifest.cells().keySet()) {
            byCell.put(id, new ArrayList<>());
        }
        try {
            for (String line : Files.readAllLines(samples, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    SampleRecord r = ExperimentRunner.LINE.fromJson(line, SampleRecord.class);
                    byCell.computeIfAbsent(r.cell(), k -> new ArrayList<>()).add(r);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long evaluated = byCell.values().stream().mapToLong(List::size).sum();
        long expected = (long) manifest.images() * manifest.experiment().seeds().size() * manifest.cells().size();
        List<CellSummary> rows = new ArrayList<>();
        for (Map.Entry<String, List<SampleRecord>> e : byCell.entrySet()) {
            List<SampleRecord> recs = e.getValue();
            if (recs.isEmpty()) {
                continue;
            }
            ExperimentRunner.CellInfo info = manifest.cells().get(e.getKey());
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
            long nonFinite = 0;
            long invalidPatches = 0;
            long uncheckedPatches = 0;
            Map<String, long[]> gradientsByChunk = new LinkedHashMap<>();
            for (SampleRecord r : recs) {
                single += r.singleDrawRobust() ? 1 : 0;
                hasSingle |= r.singleRobust() != null;
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
            double mean = java.util.Arrays.stream(acc).average().orElse(Double.NaN);
            double var = 0;
            for (double a : acc) {
                var += (a - mean) * (a - mean);
            }
            double std = acc.length > 1 ? Math.sqrt(var / (acc.length - 1)) : 0;
            double[] ci = Metrics.wilson(robust, n);
            long[] g = new long[3];
            gradientsByChunk.values().forEach(v -> {
                g[0] += v[0];
                g[1] += v[1];
                g[2] += v[2];
            });
            List<String> warnings = new ArrayList<>();
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
            rows.add(new CellSummary(e.getKey(), info.defense(), info.mode(), info.attack(), info.budget(),
                    info.gradientMode(), info.threatModel(), (int) (n / perSeed.size()), perSeed.size(),
                    (double) clean / n, mean, std, ci[0], ci[1], randomised ? (double) anyRobust / n : null,
                    psnrCount > 0 ? psnr / psnrCount : Double.POSITIVE_INFINITY, ssim / n, maxLinf, maxL2, median(ms),
                    fwd / n, hasSingle ? (double) single / n : null, nonFinite, invalidPatches, uncheckedPatches, g[0],
                    g[1], g[2], warnings));
        }
        return new Summary(manifest.experiment().name(), manifest.experiment().profile(), manifest.classifier(),
                manifest.gitCommit(), manifest.created(), manifest.experiment().seeds(), rows, checks(rows), evaluated,
                expected, manifest.history());
    }

    /**
     * Attack id parsed back: {@code autoattack-linf-0.0314-s5-q20} → base "autoattack", norm "linf", eps 0.0314,
     * suffix "s5-q20"; {@code family()} is base plus suffix (one curve per family).
     */
    private record Parsed(String base, String norm, double eps, String suffix) {
        String family() {
            return suffix.isEmpty() ? base : base + "-" + suffix;
        }

        static Parsed of(String attackId) {
            String[] p = attackId.split("-");
            int i = 0;
            StringBuilder base = new StringBuilder(p[i++]);
            while (i < p.length && !p[i].equals("linf") && !p[i].equals("l2") && !p[i].matches("[0-9.]+")) {
                base.append('-').append(p[i++]);
            }
            if (i < p.length && (p[i].equals("linf") || p[i].equals("l2"))) {
                String norm = p[i++];
                double eps = i < p.length ? Double.parseDouble(p[i]) : Double.NaN;
                String rest = String.join("-", java.util.Arrays.copyOfRange(p, Math.min(p.length, i + 1), p.length));
                return new Parsed(base.toString(), norm, eps, rest);
            }
            return new Parsed(attackId, null, Double.NaN, "");
        }
    }

    static List<Check> checks(List<CellSummary> rows) {
        List<Check> out = new ArrayList<>();
        // non-finite values are errors, never results
        long nonFinite = rows.stream().mapToLong(CellSummary::nonFiniteInputs).sum();
        out.add(new Check("no adversarial input is non-finite", nonFinite == 0, nonFinite == 0
                ? "every cell's inputs and distances are finite"
                : nonFinite + " input(s) in " + rows.stream().filter(r -> r.nonFiniteInputs() > 0)
                        .map(CellSummary::cell).toList()));
        long badGrad = rows.stream().mapToLong(CellSummary::nonFiniteGradients).sum();
        out.add(new Check("no gradient row is non-finite", badGrad == 0, badGrad == 0
                ? "counted on " + rows.stream().mapToLong(CellSummary::gradientRows).sum() + " rows"
                : badGrad + " row(s) in " + rows.stream().filter(r -> r.nonFiniteGradients() > 0)
                        .map(CellSummary::cell).toList()));
        List<CellSummary> patchCells = rows.stream().filter(r -> r.invalidPatches() + r.uncheckedPatches() > 0
                || Parsed.of(r.attack()).norm() == null).toList();
        long invalid = rows.stream().mapToLong(CellSummary::invalidPatches).sum();
        long unchecked = rows.stream().mapToLong(CellSummary::uncheckedPatches).sum();
        if (!patchCells.isEmpty()) {
            out.add(new Check("patch cells change only the patch, inside [0, 1]", invalid == 0 && unchecked == 0,
                    invalid > 0 ? invalid + " invalid patch input(s) in " + rows.stream()
                            .filter(r -> r.invalidPatches() > 0).map(CellSummary::cell).toList()
                    : unchecked > 0 ? unchecked + " patch record(s) written before harness v2 carry no check"
                    : "checked every patch input"));
        }
        // budgets respected
        List<Check> budget = new ArrayList<>();
        for (CellSummary r : rows) {
            Parsed p = Parsed.of(r.attack());
            if (p.norm() == null) {
                continue;
            }
            double used = p.norm().equals("linf") ? r.maxLinf() : r.maxL2();
            boolean ok = used <= p.eps() * (1 + 1e-4) + 1e-6;
            if (!ok) {
                budget.add(new Check("perturbation within budget", false, String.format(Locale.ROOT,
                        "%s: largest %s distance %.5f > eps %.5f", r.cell(), p.norm(), used, p.eps())));
            }
        }
        out.addAll(budget);
        out.add(new Check("every adversarial input is within its budget", budget.isEmpty(),
                budget.isEmpty() ? "checked the largest distance of every ℓp cell" : budget.size()
                        + " cell(s) exceed it"));
        // monotone in eps
        Map<String, TreeMap<Double, CellSummary>> series = new LinkedHashMap<>();
        for (CellSummary r : rows) {
            Parsed p = Parsed.of(r.attack());
            if (p.norm() != null) {
                series.computeIfAbsent(r.defense() + "|" + r.mode() + "|" + p.family() + "|" + p.norm(),
                        k -> new TreeMap<>()).put(p.eps(), r);
            }
        }
        for (Map.Entry<String, TreeMap<Double, CellSummary>> e : series.entrySet()) {
            if (e.getValue().size() < 2) {
                continue;
            }
            double last = Double.POSITIVE_INFINITY;
            boolean ok = true;
            StringBuilder d = new StringBuilder();
            for (Map.Entry<Double, CellSummary> pt : e.getValue().entrySet()) {
                ok &= pt.getValue().robustMean() <= last + 1e-12;
                last = pt.getValue().robustMean();
                d.append(String.format(Locale.ROOT, "eps %.4f: %.2f%%; ", pt.getKey(), 100 * last));
            }
            out.add(new Check("robust accuracy non-increasing in eps [" + e.getKey() + "]", ok, d.toString().trim()));
        }
        // AutoAttack ≤ PGD at equal budget
        for (CellSummary r : rows) {
            Parsed p = Parsed.of(r.attack());
            if (!"autoattack".equals(p.base())) {
                continue;
            }
            for (CellSummary q : rows) {
                Parsed pq = Parsed.of(q.attack());
                if (pq.base().equals("pgd") && q.defense().equals(r.defense()) && q.mode().equals(r.mode())
                        && p.norm().equals(pq.norm()) && Math.abs(p.eps() - pq.eps()) < 1e-9) {
                    out.add(new Check("AutoAttack ≤ PGD at equal budget [" + r.defense() + "|" + r.mode() + "|"
                            + p.norm() + " " + String.format(Locale.ROOT, "%.4f", p.eps()) + "]",
                            r.robustMean() <= q.robustMean() + 1e-12, String.format(Locale.ROOT,
                                    "AutoAttack %.2f%% vs PGD %.2f%%", 100 * r.robustMean(), 100 * q.robustMean())));
                }
            }
        }
        // ℓ∞ PGD at ε ≥ 0.1 on the undefended model
        for (CellSummary r : rows) {
            Parsed p = Parsed.of(r.attack());
            if (p.base().equals("pgd") && "linf".equals(p.norm()) && p.eps() >= 0.1 - 1e-9
                    && r.defense().equals("none")) {
                out.add(new Check("undefended ℓ∞ PGD at eps 0.1 leaves ≤ 5 %", r.robustMean() <= 0.05,
                        String.format(Locale.ROOT, "%.2f%%", 100 * r.robustMean())));
            }
        }
        return out;
    }

    /** Median: robust to chunks that ran while the machine was busy with something else. */
    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        java.util.Collections.sort(s);
        int n = s.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** Writes report.md, report.csv, report.json and the figures; returns the summary. */
    public static Summary write(Path dir) {
        Summary s = summarise(dir);
        Json.writeAtomically(dir.resolve("report.json"), s);
        StringBuilder csv = new StringBuilder("cell,defense,mode,attack,budget,gradient_mode,images,runs,"
                + "clean_accuracy,robust_mean,robust_std,ci95_low,ci95_high,any_copy_robust,psnr_db,ssim,max_linf,"
                + "max_l2,ms_per_image,forward_per_image,single_robust,non_finite_inputs,invalid_patches,"
                + "gradient_rows,non_finite_gradients,zero_gradients\n");
        for (CellSummary r : s.cells()) {
            csv.append(String.join(",", q(r.cell()), q(r.defense()), q(r.mode()), q(r.attack()), q(r.budget()),
                    q(r.gradientMode()), "" + r.images(), "" + r.runs(), f(r.cleanAccuracy()), f(r.robustMean()),
                    f(r.robustStd()), f(r.ciLow()), f(r.ciHigh()), r.anyCopyRobust() == null ? "" : f(r.anyCopyRobust()),
                    f(r.psnr()), f(r.ssim()), f(r.maxLinf()), f(r.maxL2()), f(r.msPerImage()),
                    f(r.forwardPerImage()), r.singleRobust() == null ? "" : f(r.singleRobust()),
                    "" + r.nonFiniteInputs(), "" + r.invalidPatches(), "" + r.gradientRows(),
                    "" + r.nonFiniteGradients(), "" + r.zeroGradients())).append('\n');
        }
        Files2.writeAtomically(dir.resolve("report.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
        List<String> figures = figures(dir, s);
        Files2.writeAtomically(dir.resolve("report.md"), markdown(s, figures, dir).getBytes(StandardCharsets.UTF_8));
        return s;
    }

    private static List<String> figures(Path dir, Summary s) {
        Map<String, List<Figures.Series>> byNorm = new LinkedHashMap<>();
        Map<String, TreeMap<Double, Double>> lines = new LinkedHashMap<>();
        for (CellSummary r : s.cells()) {
            Parsed p = Parsed.of(r.attack());
            if (p.norm() != null) {
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

    private static String markdown(Summary s, List<String> figures, Path dir) {
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
                + "universal patch's one-off training time is in `patches/*.info.json`.\n\n");
        md.append("Three scores per cell (harness v2): **single** — the first of the K evaluations alone; **robust** — "
                + "the majority of K (a tie counts as fooled; the number the tables quote); **any-of-K** — robust only "
                + "if all K evaluations are right, the worst case over K re-submissions. They coincide for "
                + "deterministic defences. Against randomised defences attacks run to full length and keep the iterate "
                + "with the best EOT objective.\n\n");
        md.append("| defence | mode | attack | budget | gradient mode | images × runs | clean | single | robust | 95 % CI "
                + "| any-of-K | PSNR dB | SSIM | ms/img (median) | warnings |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (CellSummary r : s.cells()) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %d × %d | %.2f%% | %s | %.2f ± %.2f%% | "
                    + "%.1f–%.1f%% | %s | %.1f | %.3f | %.1f | %s |%n", r.defense(), r.mode(), r.attack(), r.budget(),
                    r.gradientMode(), r.images(), r.runs(), 100 * r.cleanAccuracy(),
                    r.singleRobust() == null ? "–" : String.format(Locale.ROOT, "%.2f%%", 100 * r.singleRobust()),
                    100 * r.robustMean(), 100 * r.robustStd(), 100 * r.ciLow(), 100 * r.ciHigh(),
                    r.anyCopyRobust() == null ? "–" : String.format(Locale.ROOT, "%.2f%%", 100 * r.anyCopyRobust()),
                    r.psnr(), r.ssim(), r.msPerImage(), r.warnings() == null || r.warnings().isEmpty() ? ""
                            : String.join("; ", r.warnings())));
        }
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
        java.util.Set<String> seen = new java.util.LinkedHashSet<>();
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
        Path ex = dir.resolve("examples");
        if (Files.isDirectory(ex)) {
            md.append("\n## Examples (rows: clean, adversarial, purified)\n\n");
            try (var files = Files.list(ex)) {
                files.sorted().forEach(f -> md.append("- [").append(f.getFileName()).append("](examples/")
                        .append(f.getFileName()).append(")\n"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return md.toString();
    }

    private static String q(String s) {
        return "\"" + (s == null ? "" : s.replace("\"", "\"\"")) + "\"";
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }
}
