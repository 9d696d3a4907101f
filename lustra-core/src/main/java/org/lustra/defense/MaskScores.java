package org.lustra.defense;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How well predicted masks match true patch masks: the one place masks are scored (mask quality, calibration, the
 * localisation sweep, prompt-tuning validation, clean masking). Per image an {@link Overlap} (values > 0.5 count as
 * set); accumulated image by image, the mean over images of IoU, precision and recall (an image whose predicted mask
 * is empty has precision 0; one whose true mask is empty is not scored for IoU, precision and recall but counts in the
 * masked share), and the mean share of pixels masked. On clean images (empty truth) the masked share is the
 * false-positive pixel rate.
 */
public final class MaskScores {
    private int images;
    private int scored;
    private double iou;
    private double precision;
    private double recall;
    private double maskedShare;
    private long maskedPixels;
    private long pixels;

    /**
     * Pixel counts of one predicted mask against the true one.
     *
     * @param truePositive set in both
     * @param falsePositive set only in the prediction
     * @param falseNegative set only in the truth
     * @param pixels pixels compared
     */
    public record Overlap(long truePositive, long falsePositive, long falseNegative, int pixels) {

        /** IoU; 1 when both masks are empty. */
        public double iou() {
            long union = truePositive + falsePositive + falseNegative;
            return union == 0 ? 1 : (double) truePositive / union;
        }

        /** Precision; for an empty prediction 1 when the truth is empty too, else 0. */
        public double precision() {
            long predicted = truePositive + falsePositive;
            return predicted == 0 ? (falseNegative == 0 ? 1 : 0) : (double) truePositive / predicted;
        }

        /** Recall; 1 when the truth is empty. */
        public double recall() {
            long truth = truePositive + falseNegative;
            return truth == 0 ? 1 : (double) truePositive / truth;
        }

        /** Whether the true mask has any pixel set. */
        public boolean truthSet() {
            return truePositive + falseNegative > 0;
        }

        /** Share of the pixels the prediction sets. */
        public double maskedShare() {
            return (double) (truePositive + falsePositive) / pixels;
        }
    }

    /** The overlap of {@code predicted} and {@code truth} (len values each from their offsets; truth null = empty). */
    public static Overlap overlap(float[] predicted, int pOff, float[] truth, int tOff, int len) {
        long tp = 0;
        long fp = 0;
        long fn = 0;
        for (int i = 0; i < len; i++) {
            boolean p = predicted[pOff + i] > 0.5f;
            boolean t = truth != null && truth[tOff + i] > 0.5f;
            tp += p && t ? 1 : 0;
            fp += p && !t ? 1 : 0;
            fn += !p && t ? 1 : 0;
        }
        return new Overlap(tp, fp, fn, len);
    }

    /** Adds one image: {@code predicted} and {@code truth} (len values each from their offsets; > 0.5 = set). */
    public void add(float[] predicted, int pOff, float[] truth, int tOff, int len) {
        Overlap o = overlap(predicted, pOff, truth, tOff, len);
        images++;
        maskedShare += o.maskedShare();
        maskedPixels += o.truePositive() + o.falsePositive();
        pixels += len;
        if (o.truthSet()) {
            scored++;
            iou += o.iou();
            precision += o.precision();
            recall += o.recall();
        }
    }

    /** Adds n images of len pixels each; {@code truth} null for clean images. */
    public void addAll(float[] predicted, float[] truth, int n, int len) {
        for (int i = 0; i < n; i++) {
            add(predicted, i * len, truth, i * len, len);
        }
    }

    public int images() {
        return images;
    }

    public double iou() {
        return scored == 0 ? Double.NaN : iou / scored;
    }

    public double precision() {
        return scored == 0 ? Double.NaN : precision / scored;
    }

    public double recall() {
        return scored == 0 ? Double.NaN : recall / scored;
    }

    public double maskedShare() {
        return images == 0 ? Double.NaN : maskedShare / images;
    }

    /**
     * Masked pixels over all pixels, pooled over images: {@link #maskedShare} up to rounding when the images have one
     * size (the figure the localisation sweep reports).
     */
    public double pooledMaskedShare() {
        return pixels == 0 ? Double.NaN : (double) maskedPixels / pixels;
    }

    /** The scores as JSON fields, rounded to 4 decimals (NaN fields left out). */
    public Map<String, Object> fields() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("images", images);
        put(m, "iou", iou());
        put(m, "precision", precision());
        put(m, "recall", recall());
        put(m, "masked_share", maskedShare());
        return m;
    }

    private static void put(Map<String, Object> m, String k, double v) {
        if (Double.isFinite(v)) {
            m.put(k, Math.round(v * 10000) / 10000.0);
        }
    }
}
