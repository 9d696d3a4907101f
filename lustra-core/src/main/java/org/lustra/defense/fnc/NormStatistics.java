package org.lustra.defense.fnc;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.lustra.data.ImageSet;
import org.lustra.model.Classifier;

/**
 * The distribution of a classifier's per-location feature norms ‖f(i, j)‖₂ at each stage over given images: what
 * {@link FeatureNormClipping}'s thresholds are chosen from (on {@code data/validation}, never on the evaluation
 * subset). Per stage it keeps every absolute norm and every norm divided by its image's mean location norm at that
 * stage (the {@link FeatureNormClipping.Mode#RELATIVE} scale), sorted, so any quantile can be read. Measuring clean
 * images and patched ones side by side shows where a threshold separates them.
 */
public final class NormStatistics {
    private final String classifier;
    private final int images;
    private final float[][] absolute;
    private final float[][] relative;

    private NormStatistics(String classifier, int images, float[][] absolute, float[][] relative) {
        this.classifier = classifier;
        this.images = images;
        this.absolute = absolute;
        this.relative = relative;
    }

    /** Norm statistics of {@code classifier}'s stages (unclipped) on all of {@code set}, {@code batch} at a time. */
    public static NormStatistics measure(Classifier classifier, ImageSet set, int batch) {
        if (batch < 1 || set.size() == 0) {
            throw new IllegalArgumentException("Invalid norm statistics: batch " + batch + " (≥ 1) over "
                    + set.size() + " images (≥ 1)");
        }
        List<List<float[]>> abs = new ArrayList<>();
        List<List<float[]>> rel = new ArrayList<>();
        try (NDManager base = NDManager.newBaseManager()) {
            for (int from = 0; from < set.size(); from += batch) {
                try (NDManager m = base.newSubManager()) {
                    collect(classifier, set.batch(m, from, Math.min(set.size(), from + batch)), abs, rel);
                }
            }
        }
        return new NormStatistics(classifier.name(), set.size(), sorted(abs), sorted(rel));
    }

    /** Norm statistics of {@code classifier}'s stages on one batch {@code x} (N, C, H, W in [0, 1]). */
    public static NormStatistics measure(Classifier classifier, NDArray x) {
        List<List<float[]>> abs = new ArrayList<>();
        List<List<float[]>> rel = new ArrayList<>();
        try (NDManager m = x.getManager().newSubManager()) {
            m.tempAttachAll(x);
            collect(classifier, x, abs, rel);
        }
        return new NormStatistics(classifier.name(), (int) x.getShape().get(0), sorted(abs), sorted(rel));
    }

    private static void collect(Classifier classifier, NDArray x, List<List<float[]>> abs,
            List<List<float[]>> rel) {
        List<NDArray> stages = classifier.forward(x).stages();
        int n = (int) x.getShape().get(0);
        for (int s = 0; s < stages.size(); s++) {
            if (abs.size() <= s) {
                abs.add(new ArrayList<>());
                rel.add(new ArrayList<>());
            }
            float[] norms = FeatureNormClipping.locationNorms(stages.get(s).stopGradient()).toFloatArray();
            int per = norms.length / n;
            float[] r = new float[norms.length];
            for (int i = 0; i < n; i++) {
                double mean = 0;
                for (int j = i * per; j < (i + 1) * per; j++) {
                    mean += norms[j];
                }
                mean /= per;
                for (int j = i * per; j < (i + 1) * per; j++) {
                    r[j] = (float) (norms[j] / mean);
                }
            }
            abs.get(s).add(norms);
            rel.get(s).add(r);
        }
    }

    private static float[][] sorted(List<List<float[]>> perStage) {
        float[][] out = new float[perStage.size()][];
        for (int s = 0; s < out.length; s++) {
            out[s] = new float[perStage.get(s).stream().mapToInt(a -> a.length).sum()];
            int at = 0;
            for (float[] a : perStage.get(s)) {
                System.arraycopy(a, 0, out[s], at, a.length);
                at += a.length;
            }
            Arrays.sort(out[s]);
        }
        return out;
    }

    public String classifier() {
        return classifier;
    }

    public int images() {
        return images;
    }

    public int stages() {
        return absolute.length;
    }

    /** Number of locations (images × H_s × W_s) measured at {@code stage}. */
    public int locations(int stage) {
        return absolute[stage].length;
    }

    /** The q-quantile (0 ≤ q ≤ 1, nearest rank) of the absolute location norms at {@code stage}. */
    public double quantile(int stage, double q) {
        return rank(absolute[stage], q);
    }

    /** The q-quantile of the location norms divided by their image's mean at {@code stage}. */
    public double relativeQuantile(int stage, double q) {
        return rank(relative[stage], q);
    }

    /** FNC options with each stage's absolute threshold at the q-quantile of its norms. */
    public FeatureNormClipping.Options absoluteAt(double q) {
        double[] t = new double[stages()];
        for (int s = 0; s < t.length; s++) {
            t[s] = quantile(s, q);
        }
        return FeatureNormClipping.Options.absolute(t);
    }

    /** FNC options with each stage's relative factor at the q-quantile of its relative norms. */
    public FeatureNormClipping.Options relativeAt(double q) {
        double[] t = new double[stages()];
        for (int s = 0; s < t.length; s++) {
            t[s] = relativeQuantile(s, q);
        }
        return FeatureNormClipping.Options.relative(t);
    }

    /** A Markdown table: per stage, the median, 90 %, 99 %, 99.9 % and maximum, absolute and relative. */
    public String table() {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "Feature norms of %s on %d images%n%n"
                + "| stage | locations | p50 | p90 | p99 | p99.9 | max | rel p50 | rel p90 | rel p99 | rel p99.9 | rel max |%n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|%n", classifier, images));
        for (int s = 0; s < stages(); s++) {
            b.append(String.format(Locale.ROOT, "| %d | %d |", s, locations(s)));
            for (float[] values : new float[][] {absolute[s], relative[s]}) {
                for (double q : new double[] {0.5, 0.9, 0.99, 0.999, 1.0}) {
                    b.append(String.format(Locale.ROOT, " %.4g |", rank(values, q)));
                }
            }
            b.append(System.lineSeparator());
        }
        return b.toString();
    }

    private static double rank(float[] sorted, double q) {
        if (!(q >= 0 && q <= 1)) {
            throw new IllegalArgumentException("Invalid quantile: " + q + " (0..1)");
        }
        return sorted[(int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
    }
}
