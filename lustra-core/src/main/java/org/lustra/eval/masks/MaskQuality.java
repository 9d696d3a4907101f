package org.lustra.eval.masks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.lustra.defense.MaskingPurifier;
import org.lustra.model.Classifier;

/**
 * Mask quality of masking purifiers (DW, SAC-like, Jedi, DIFFender) against the true patch masks of the harness's patch
 * attacks: per (defence, attack) the mean IoU, precision and recall on patched images, the masked share of the same
 * images clean (false-positive pixel rate), and the classifier's accuracy on the purified images (non-adaptive: the
 * patch was made against the bare classifier).
 *
 * @param classifier the protected classifier
 * @param images how the images were chosen
 * @param seed the attacks' seed
 * @param rows one per (defence, attack)
 */
public record MaskQuality(String classifier, String images, long seed, List<Row> rows) {

    /**
     * @param defence the spec as given
     * @param purifier the built purifier's name (the values in use)
     * @param attack the attack's name and settings
     * @param patched mask scores against the true masks
     * @param cleanMaskedShare masked share on the clean images
     * @param undefendedAccuracy the classifier on the patched images
     * @param patchedAccuracy the classifier on the purified patched images
     * @param cleanAccuracy the classifier on the purified clean images
     */
    public record Row(String defence, String purifier, String attack, Map<String, Object> patched,
            double cleanMaskedShare, double undefendedAccuracy, double patchedAccuracy, double cleanAccuracy) {}

    /** A row of {@code purifier} on {@code data}; {@code clean} the clean images' evaluation (shared by attacks). */
    public static Row row(String defence, MaskingPurifier purifier, Classifier classifier, PatchedImages data,
            MaskEvaluation clean, long seed) {
        MaskEvaluation patched = MaskEvaluation.run(purifier, classifier, data.patched(), data.labels(), data.masks(),
                data.shape(), seed);
        double undefended = (double) PatchedImages.correct(classifier, data.patched(), data.labels(), data.shape())
                / data.size();
        return new Row(defence, purifier.name(), data.attack(), patched.scores().fields(),
                round(clean.scores().maskedShare()), round(undefended), round(patched.accuracy()),
                round(clean.accuracy()));
    }

    /** The Markdown report. */
    public String markdown() {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "# Mask quality against true patch masks%n%n"
                + "Classifier `%s`; %s; attack seed %d. IoU, precision and recall are means over patched images; "
                + "\"clean masked\" is the share of a clean image's pixels masked (false positives); accuracies are "
                + "non-adaptive (patches made with exact gradients against the bare classifier, no EOT: this "
                + "measures localisation, not robustness; no adaptive attack was run). Scoring: each image is "
                + "purified once with the attack seed, so for a randomised defence (DIFFender) masks and accuracies "
                + "are single draws, not a majority of K.%n%n"
                + "| defence | attack | IoU | precision | recall | clean masked | accuracy undefended → defended |"
                + " clean accuracy defended |%n|---|---|---|---|---|---|---|---|%n", classifier, images, seed));
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "| `%s` | %s | %s | %s | %s | %.2f %% | %.1f → %.1f %% | %.1f %% |%n",
                    r.defence(), r.attack().split(":")[0], fmt(r.patched().get("iou")), fmt(r.patched().get("precision")),
                    fmt(r.patched().get("recall")),
                    100 * r.cleanMaskedShare(), 100 * r.undefendedAccuracy(), 100 * r.patchedAccuracy(),
                    100 * r.cleanAccuracy()));
        }
        b.append(String.format(Locale.ROOT, "%nAttacks:%n%n"));
        List<String> seen = new ArrayList<>();
        for (Row r : rows) {
            if (!seen.contains(r.attack())) {
                seen.add(r.attack());
                b.append("* ").append(r.attack()).append(System.lineSeparator());
            }
        }
        b.append(String.format(Locale.ROOT, "%nPurifiers as built:%n%n"));
        Map<String, String> built = new LinkedHashMap<>();
        rows.forEach(r -> built.put(r.defence(), r.purifier()));
        built.forEach((k, v) -> b.append("* `").append(k).append("`: ").append(v).append(System.lineSeparator()));
        return b.toString();
    }

    private static String fmt(Object v) {
        return v instanceof Number n ? String.format(Locale.ROOT, "%.3f", n.doubleValue()) : "–";
    }

    private static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }
}
