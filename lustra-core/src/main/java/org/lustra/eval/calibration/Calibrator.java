package org.lustra.eval.calibration;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.lustra.data.ImageSet;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.FeatureDefense;
import org.lustra.defense.MaskingPurifier;
import org.lustra.defense.Purifier;
import org.lustra.defense.fnc.FeatureNormClipping;
import org.lustra.defense.fnc.NormStatistics;
import org.lustra.eval.masks.MaskEvaluation;
import org.lustra.eval.masks.PatchedImages;
import org.lustra.model.Classifier;
import org.lustra.util.Versions;

/**
 * Chooses a defence's thresholds on data/validation by a stated rule ({@link Rule}), trying a grid of explicit specs
 * ({@link #candidates}) on clean images and on the same images with patches made by a harness patch attack against the
 * bare classifier ({@link PatchedImages}). Every candidate is measured in full and recorded, so the file shows why
 * the chosen one won. Each candidate costs one purifier call and one classifier call per batch of 64 images.
 */
public final class Calibrator {

    /**
     * The selection rule. A masking defence (DW, SAC-like, Jedi) is admissible when its clean accuracy is at most
     * {@code maxAccuracyDrop} below the undefended classifier's on the same images and it masks at most
     * {@code maxCleanMasked} of a clean image's pixels on average (its false-positive pixel rate); among those the
     * highest mean IoU with the true patch masks wins (ties: higher patched accuracy). FNC (no mask) is admissible on
     * the accuracy drop alone and the highest patched accuracy wins (ties: higher clean accuracy).
     */
    public record Rule(double maxAccuracyDrop, double maxCleanMasked) {
        public Rule {
            if (!(maxAccuracyDrop >= 0 && maxAccuracyDrop < 1) || !(maxCleanMasked >= 0 && maxCleanMasked < 1)) {
                throw new IllegalArgumentException("Invalid calibration rule: accuracy drop " + maxAccuracyDrop
                        + " and clean masked share " + maxCleanMasked + " (each in [0, 1))");
            }
        }

        /** At most 1 point of clean accuracy lost and 2 % of a clean image's pixels masked. */
        public static Rule standard() {
            return new Rule(0.01, 0.02);
        }

        String describe(boolean masking) {
            return masking ? String.format(Locale.ROOT, "admissible: clean accuracy at most %.1f points below the "
                    + "undefended classifier's on the same images and at most %.1f %% of a clean image's pixels masked "
                    + "on average; chosen: the admissible candidate with the highest mean IoU against the true patch "
                    + "masks (ties: higher patched accuracy)", maxAccuracyDrop * 100, maxCleanMasked * 100)
                    : String.format(Locale.ROOT, "admissible: clean accuracy at most %.1f points below the undefended "
                    + "classifier's on the same images; chosen: the admissible candidate with the highest accuracy on "
                    + "the patched images (ties: higher clean accuracy)", maxAccuracyDrop * 100);
        }
    }

    private Calibrator() {}

    /**
     * The grid tried for a bare spec: {@code dw} (θ × margin), {@code sac[:NAME]} (τ × γ), {@code jedi:NAME} (τ ×
     * margin), {@code jedi:morph} (θ × opening), {@code fnc} (per-stage thresholds at quantiles of the clean images'
     * own location norms, relative and absolute, read by {@link NormStatistics}).
     */
    public static List<String> candidates(DefenseSpec bare, Classifier classifier, ImageSet clean) {
        List<String> out = new ArrayList<>();
        String t = bare.text();
        if (t.equals("dw")) {
            for (double theta : new double[] {1.5, 2, 2.5, 3, 3.5, 4}) {
                for (int dilate : new int[] {0, 1}) {
                    out.add("dw:theta" + num(theta) + ":smooth1:open1:dilate" + dilate);
                }
            }
        } else if (t.startsWith("sac")) {
            for (double tau : new double[] {0.3, 0.4, 0.5, 0.6, 0.7, 0.8}) {
                for (double gamma : new double[] {0.2, 0.3, 0.5}) {
                    out.add(t + ":tau" + num(tau) + ":gamma" + num(gamma));
                }
            }
        } else if (t.equals("jedi:morph")) {
            for (double theta : new double[] {0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95}) {
                for (int open : new int[] {0, 1}) {
                    out.add(t + ":theta" + num(theta) + ":open" + open);
                }
            }
        } else if (t.startsWith("jedi:")) {
            for (double tau : new double[] {0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}) {
                for (int dilate : new int[] {0, 1}) {
                    out.add(t + ":tau" + num(tau) + ":dilate" + dilate);
                }
            }
        } else if (t.equals("fnc")) {
            NormStatistics stats = NormStatistics.measure(classifier, clean, 64);
            for (double q : new double[] {0.9, 0.95, 0.99, 0.995, 0.999, 1.0}) {
                out.add("fnc:" + text(stats.relativeAt(q)));
                out.add("fnc:" + text(stats.absoluteAt(q)));
            }
        } else {
            throw new IllegalArgumentException("No calibration grid for '" + t + "' (dw, fnc, sac[:NAME], jedi:NAME, "
                    + "jedi:morph)");
        }
        return out;
    }

    /** Per-stage thresholds rounded to 4 significant digits, so the spec text stays readable. */
    private static String text(FeatureNormClipping.Options o) {
        double[] t = o.thresholds();
        String values = java.util.Arrays.stream(t).mapToObj(v -> Double.isInfinite(v) ? "inf"
                : new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString())
                .collect(Collectors.joining(","));
        return (o.mode() == FeatureNormClipping.Mode.RELATIVE ? "rel" : "abs") + values;
    }

    private static String num(double v) {
        return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }

    /**
     * Measures every candidate on {@code data} and applies {@code rule}. {@code bare} is the defence as calibrated
     * (e.g. {@code dw}), {@code key} its calibration key.
     */
    public static Calibration run(DefenseSpec bare, String key, List<String> candidates, Classifier classifier,
            PatchedImages data, Map<String, Object> dataInfo, Rule rule, DefenseFactory factory, String command,
            long seed, Consumer<String> log) {
        double refClean = (double) PatchedImages.correct(classifier, data.clean(), data.labels(), data.shape())
                / data.size();
        double refPatched = (double) PatchedImages.correct(classifier, data.patched(), data.labels(), data.shape())
                / data.size();
        log.accept(String.format(Locale.ROOT, "undefended: clean %.2f %%, patched %.2f %% (%d images)", 100 * refClean,
                100 * refPatched, data.size()));
        boolean masking = !bare.text().equals("fnc");
        List<Calibration.Candidate> measured = new ArrayList<>();
        for (String spec : candidates) {
            Calibration.Candidate c = measure(spec, classifier, data, factory, rule, refClean, seed);
            measured.add(c);
            log.accept(String.format(Locale.ROOT, "%-44s clean %.2f %%  patched %.2f %%%s%s", spec,
                    100 * c.cleanAccuracy(), 100 * c.patchedAccuracy(), c.patchedMask() == null ? ""
                            : String.format(Locale.ROOT, "  clean masked %s  IoU %s",
                                    c.cleanMask().get("masked_share"), c.patchedMask().get("iou")),
                    c.admissible() ? "" : "  (not admissible)"));
        }
        Comparator<Calibration.Candidate> better = masking
                ? Comparator.comparingDouble((Calibration.Candidate c) -> value(c.patchedMask(), "iou"))
                        .thenComparingDouble(Calibration.Candidate::patchedAccuracy)
                : Comparator.comparingDouble(Calibration.Candidate::patchedAccuracy)
                        .thenComparingDouble(Calibration.Candidate::cleanAccuracy);
        List<Calibration.Candidate> admissible = measured.stream().filter(Calibration.Candidate::admissible).toList();
        boolean met = !admissible.isEmpty();
        Calibration.Candidate chosen = met ? admissible.stream().max(better).orElseThrow()
                : measured.stream().max(Comparator.comparingDouble(Calibration.Candidate::cleanAccuracy)).orElseThrow();
        Map<String, Object> reference = new LinkedHashMap<>();
        reference.put("clean_accuracy", round(refClean));
        reference.put("patched_accuracy", round(refPatched));
        return new Calibration(bare.text(), key, classifier.name(), rule.describe(masking), met, chosen.spec(),
                dataInfo, reference, measured, command, seed, Instant.now().toString(), Versions.describe());
    }

    private static Calibration.Candidate measure(String spec, Classifier classifier, PatchedImages data,
            DefenseFactory factory, Rule rule, double refClean, long seed) {
        Purifier p = factory.create(DefenseSpec.parse(spec), classifier);
        if (p instanceof MaskingPurifier mp) {
            MaskEvaluation clean = MaskEvaluation.run(mp, classifier, data.clean(), data.labels(), null, data.shape(),
                    seed);
            MaskEvaluation patched = MaskEvaluation.run(mp, classifier, data.patched(), data.labels(), data.masks(),
                    data.shape(), seed);
            boolean ok = clean.accuracy() >= refClean - rule.maxAccuracyDrop() - 1e-12
                    && clean.scores().maskedShare() <= rule.maxCleanMasked();
            return new Calibration.Candidate(spec, round(clean.accuracy()), round(patched.accuracy()),
                    clean.scores().fields(), patched.scores().fields(), ok);
        }
        if (p instanceof FeatureDefense fd) {
            Classifier defended = fd.defend(classifier);
            double clean = (double) PatchedImages.correct(defended, data.clean(), data.labels(), data.shape())
                    / data.size();
            double patched = (double) PatchedImages.correct(defended, data.patched(), data.labels(), data.shape())
                    / data.size();
            return new Calibration.Candidate(spec, round(clean), round(patched), null, null,
                    clean >= refClean - rule.maxAccuracyDrop() - 1e-12);
        }
        throw new IllegalArgumentException("Cannot calibrate " + spec + ": neither a masking nor a feature defence");
    }

    private static double value(Map<String, Object> m, String k) {
        Object v = m == null ? null : m.get(k);
        return v instanceof Number n ? n.doubleValue() : Double.NEGATIVE_INFINITY;
    }

    private static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }
}
