package org.lustra.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.lustra.eval.Report.CellSummary;
import org.lustra.eval.Report.Check;
import org.lustra.eval.Report.Summary;
import org.lustra.util.Files2;
import org.lustra.util.Json;

/**
 * The files of a report, from its {@link Report.Summary}: {@code report.json}, {@code report.csv}, {@code report.md}
 * (cell table, paired rows, the run's hand-written notes, threat models, sanity checks, figures and example panels)
 * and {@code figures/}. Kept apart from the scoring in {@link Report} so that what a number is and how it is printed
 * change in different places.
 */
final class ReportFiles {
    private ReportFiles() {}

    /** Writes report.md, report.csv, report.json and the figures of the summary {@code s} of run {@code dir}. */
    static void write(Path dir, Summary s) {
        Map<String, Experiment.AttackSpec> attacks = SanityChecks.attacks(new RunDirectory(dir).readManifest());
        Json.writeAtomically(dir.resolve("report.json"), s);
        Files2.writeAtomically(dir.resolve("report.csv"), csv(s).getBytes(StandardCharsets.UTF_8));
        List<String> figures = figures(dir, s, attacks);
        List<String> examples = ExamplePanels.write(dir, s);
        Files2.writeAtomically(dir.resolve("report.md"), markdown(s, figures, examples, dir)
                .getBytes(StandardCharsets.UTF_8));
    }

    /** report.csv of the summary {@code s}: one row per cell, every number of its {@link CellSummary}. */
    static String csv(Summary s) {
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
        return csv.toString();
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
        appendPreamble(md, s);
        appendCellTable(md, s);
        // the journal once for both record-level sections (a finished run's samples.jsonl runs to megabytes)
        RunDirectory run = new RunDirectory(dir);
        List<SampleRecord> records = run.readRecords();
        md.append(pairedSection(run.readManifest(), records));
        md.append(PatchDetection.markdown(records));
        Path notes = dir.resolve("NOTES.md");
        if (Files.isRegularFile(notes)) {
            // hand-written notes of the run (what moved against an earlier run and why), kept across regenerations
            try {
                md.append("## Notes\n\n").append(Files.readString(notes, StandardCharsets.UTF_8).trim()).append("\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        appendAppendix(md, s, figures, examples);
        return md.toString();
    }

    /** Title, provenance, history, the incomplete-run banner and how to read the scores. */
    private static void appendPreamble(StringBuilder md, Summary s) {
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
                + "runs (std 0 with one run); the 95 % interval is Wilson's at the pooled proportion with the "
                + "distinct images as n (the runs repeat the images, and counting each run's record as a new image "
                + "would narrow it by up to √runs). For randomised "
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
    }

    /** Threat models, sanity checks, figures and examples. */
    private static void appendAppendix(StringBuilder md, Summary s, List<String> figures, List<String> examples) {
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
    }

    /** The paired comparison of a run whose rows share their draws, else nothing. */
    private static String pairedSection(Manifest manifest, List<SampleRecord> records) {
        Experiment exp = manifest.experiment();
        return exp.pairedRows() ? PairedRows.markdown(PairedRows.of(manifest, records), exp.fullLengthNonAdaptive())
                : "";
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
