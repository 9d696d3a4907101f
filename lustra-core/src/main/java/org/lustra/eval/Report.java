package org.lustra.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.lustra.util.LustraException;

/**
 * Aggregates {@code samples.jsonl} of a run directory into a {@link Summary} — written out as {@code report.md},
 * {@code report.csv}, {@code report.json} and {@code figures/} by {@link ReportFiles} (charts by {@link Figures},
 * labelled example panels by {@link ExamplePanels}): per cell, clean
 * and robust accuracy as mean ± std over the run seeds, a 95 % Wilson interval at the pooled proportion on the
 * distinct images ({@link Metrics#wilsonOverImages}),
 * PSNR/SSIM/distances of the adversarial inputs, PSNR/SSIM of the purified images against the clean ones, time and
 * forward passes per image, the gradient mode and threat model; then the sanity checks every robustness table must
 * pass.
 */
public final class Report {

    /**
     * One row of the report. {@code images} counts the distinct images with a record (each seed's attack on an image
     * is one record; the same count the interval uses), {@code runs} the seeds. {@code gradientRows} etc. count the attack's per-chunk gradients; a universal patch's
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
        long expected = manifest.expectedRecords();
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
        Map<Integer, Integer> recordsPerImage = new HashMap<>(); // image index -> its records (one per seed)
        long n = 0;
        long clean = 0;
        long robust = 0;
        long anyRobust = 0;
        boolean randomised = false;
        Distortion dist = new Distortion();
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
            recordsPerImage.merge(r.index(), 1, Integer::sum);
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
            dist.add(r);
            ms.add(r.msPerImage());
            fwd += r.forwardImagesPerImage();
        }
        double[] acc = perSeed.values().stream().mapToDouble(s -> (double) s[2] / s[0]).toArray();
        double mean = Arrays.stream(acc).average().orElse(Double.NaN);
        double[] ci = Metrics.wilsonOverImages(robust, recordsPerImage.values());
        long[] g = health.gradients();
        return new CellSummary(id, info.defense(), info.mode(), info.attack(), info.budget(), info.gradientMode(),
                info.threatModel(), recordsPerImage.size(), perSeed.size(), (double) clean / n, mean,
                sampleStd(acc, mean), ci[0], ci[1], randomised ? (double) anyRobust / n : null, dist.meanPsnr(),
                dist.ssim / n, dist.maxLinf, dist.maxL2, median(ms), fwd / n,
                hasSingle ? (double) single / n : null, health.nonFinite, health.invalidPatches,
                health.uncheckedPatches, g[0], g[1], g[2], health.warnings(training),
                training == null ? null : training.patches(), training == null ? null : training.gradientRows(),
                fidelity.mean());
    }

    /** Means of the records' purified-image fidelity; PSNR over finite values (identical images give +∞). */
    /** Sample standard deviation of the per-seed accuracies around their mean; 0 with one seed. */
    private static double sampleStd(double[] acc, double mean) {
        double var = 0;
        for (double a : acc) {
            var += (a - mean) * (a - mean);
        }
        return acc.length > 1 ? Math.sqrt(var / (acc.length - 1)) : 0;
    }

    /** Distortion of the attack's inputs over a cell: PSNR over its finite values, SSIM sum, largest distances. */
    private static final class Distortion {
        private double psnr;
        private int psnrCount;
        double ssim;
        double maxLinf;
        double maxL2;

        void add(SampleRecord r) {
            if (Double.isFinite(r.psnr())) {
                psnr += r.psnr();
                psnrCount++;
            }
            ssim += r.ssim();
            maxLinf = Math.max(maxLinf, r.distLinf());
            maxL2 = Math.max(maxL2, r.distL2());
        }

        /** Mean PSNR; +∞ when every input equals the clean image. */
        double meanPsnr() {
            return psnrCount > 0 ? psnr / psnrCount : Double.POSITIVE_INFINITY;
        }
    }

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
        ReportFiles.write(dir, s);
        return s;
    }
}
