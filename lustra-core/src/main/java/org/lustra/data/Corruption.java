package org.lustra.data;

import java.util.Arrays;
import java.util.Locale;

/**
 * The two colour corruptions of CIFAR-10-C that seed 003 (§5.6) uses, at CIFAR-10-C's five severities.
 *
 * <p>Source of the definitions: Hendrycks &amp; Dietterich, "Benchmarking Neural Network Robustness to Common
 * Corruptions and Perturbations" (ICLR 2019), and the script that made CIFAR-10-C, {@code make_cifar_c.py} in the
 * authors' repository hendrycks/robustness (folder ImageNet-C/create_c), read 1 December 2026 (the ImageNet-C script
 * uses other, larger values; these are the CIFAR ones):
 * <ul>
 *   <li>brightness adds c ∈ {0.05, 0.1, 0.15, 0.2, 0.3} to the V channel of HSV and clips V to [0, 1]. With hue and
 *       saturation fixed every RGB channel is proportional to V, so this is {@code rgb · min(1, V + c) / V}; a black
 *       pixel (V = 0, saturation 0) becomes grey c. On one channel V is the intensity: {@code min(1, x + c)}.</li>
 *   <li>contrast scales each channel's deviation from its spatial mean by c ∈ {0.75, 0.5, 0.4, 0.3, 0.15} and clips
 *       to [0, 1].</li>
 * </ul>
 * The script stores {@code uint8(255 · value)}, which truncates; {@link #applyTo(ImageSet, int)} quantises the same
 * way.
 */
public enum Corruption {
    BRIGHTNESS("brightness", new double[] {0.05, 0.1, 0.15, 0.2, 0.3}),
    CONTRAST("contrast", new double[] {0.75, 0.5, 0.4, 0.3, 0.15});

    /** CIFAR-10-C's severities run 1..5. */
    public static final int SEVERITIES = 5;

    private final String key;
    private final double[] levels;

    Corruption(String key, double[] levels) {
        this.key = key;
        this.levels = levels;
    }

    /** The name used in subset specs ({@code eval512+brightness:3}). */
    public String key() {
        return key;
    }

    /** The corruption's parameter at {@code severity} (1..5): the added brightness or the contrast factor. */
    public double level(int severity) {
        if (severity < 1 || severity > SEVERITIES) {
            throw new IllegalArgumentException("Invalid " + key + " severity " + severity + "; CIFAR-10-C severities "
                    + "are 1 to " + SEVERITIES);
        }
        return levels[severity - 1];
    }

    /** The corruption named {@code key}, or an error listing the known ones. */
    public static Corruption of(String key) {
        for (Corruption c : values()) {
            if (c.key.equals(key.toLowerCase(Locale.ROOT))) {
                return c;
            }
        }
        throw new IllegalArgumentException("Unknown corruption '" + key + "'; use one of "
                + Arrays.stream(values()).map(Corruption::key).toList());
    }

    /** One image (C·H·W floats in [0, 1], C = 1 or 3) corrupted at {@code severity}; a fresh array in [0, 1]. */
    public float[] apply(float[] image, int channels, int severity) {
        double c = level(severity);
        if (channels < 1 || image.length == 0 || image.length % channels != 0) {
            throw new IllegalArgumentException("A corruption needs a non-empty C·H·W image of " + channels
                    + " channel(s), got " + image.length + " values");
        }
        int n = image.length / channels;
        float[] out = new float[image.length];
        if (this == CONTRAST) {
            for (int k = 0; k < channels; k++) {
                double mean = 0;
                for (int p = k * n; p < (k + 1) * n; p++) {
                    mean += image[p];
                }
                mean /= n;
                for (int p = k * n; p < (k + 1) * n; p++) {
                    out[p] = clip((image[p] - mean) * c + mean);
                }
            }
            return out;
        }
        if (channels == 1) {
            for (int p = 0; p < n; p++) {
                out[p] = clip(image[p] + c);
            }
            return out;
        }
        if (channels != 3) {
            throw new IllegalArgumentException("Brightness works on the V of HSV, defined for 1 or 3 channels, got "
                    + channels);
        }
        for (int p = 0; p < n; p++) {
            double v = Math.max(image[p], Math.max(image[n + p], image[2 * n + p]));
            double v2 = Math.min(1, v + c);
            for (int k = 0; k < 3; k++) {
                out[k * n + p] = v == 0 ? (float) v2 : clip(image[k * n + p] * v2 / v);
            }
        }
        return out;
    }

    /** Every image of {@code set} corrupted at {@code severity}, quantised as CIFAR-10-C was (truncated to bytes). */
    public ImageSet applyTo(ImageSet set, int severity) {
        int d = set.imageSize();
        byte[] px = new byte[set.size() * d];
        for (int i = 0; i < set.size(); i++) {
            float[] out = apply(set.imageFloats(i), set.channels(), severity);
            for (int j = 0; j < d; j++) {
                // + 1e-4: 255 · (b/255) in float must give b back, not b − 1 from a rounding error just below it
                px[i * d + j] = (byte) (int) Math.floor(out[j] * 255.0 + 1e-4);
            }
        }
        return new ImageSet(px, set.labels(), set.channels(), set.height(), set.width());
    }

    private static float clip(double v) {
        return (float) Math.min(1, Math.max(0, v));
    }
}
