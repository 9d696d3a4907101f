package org.lustra.eval.masks;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How well predicted masks match true patch masks, accumulated image by image: the mean over images of IoU, precision
 * and recall (an image whose predicted mask is empty has precision 0; one whose true mask is empty is not scored for
 * IoU, precision and recall but counts in the masked share), and the mean share of pixels masked. On clean images
 * (empty truth) the masked share is the false-positive pixel rate.
 */
public final class MaskScores {
    private int images;
    private int scored;
    private double iou;
    private double precision;
    private double recall;
    private double maskedShare;

    /** Adds one image: {@code predicted} and {@code truth} (len values each from their offsets; > 0.5 = set). */
    public void add(float[] predicted, int pOff, float[] truth, int tOff, int len) {
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
        images++;
        maskedShare += (double) (tp + fp) / len;
        if (tp + fn > 0) {
            scored++;
            iou += (double) tp / (tp + fp + fn);
            precision += tp + fp == 0 ? 0 : (double) tp / (tp + fp);
            recall += (double) tp / (tp + fn);
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
