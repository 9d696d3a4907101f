package org.lustra.data;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;

/**
 * Reinhard colour transfer (E. Reinhard, M. Ashikhmin, B. Gooch, P. Shirley, "Color transfer between images", IEEE
 * Computer Graphics and Applications 21(5), 2001): move an image's per-channel mean and standard deviation in the
 * decorrelated lαβ space onto those of a target image. Seed 003 builds its ColoredImageNet this way, each image
 * coloured like a random test image, to show that diffusion purifiers lose more accuracy under a colour shift than
 * MAEP does.
 *
 * <p>RGB: linear RGB → LMS (Reinhard's matrix, the XYZ step folded in) → log10 → lαβ; per channel
 * {@code l' = μ_t + (σ_t / σ_s)(l − μ_s)}; back the same way; clipped to [0, 1]. Grayscale: the same in the one
 * log-intensity channel, which is a per-image gamma and gain, {@code I' = e^{μ_t − γ μ_s} (I + ε)^γ − ε} with
 * {@code γ = σ_t / σ_s} (logs here natural; the base cancels). A channel with σ_s = 0 (a flat image) is only shifted
 * (γ = 1): no gain can give it the target's spread.
 *
 * <p>Logarithms need a floor at black; Reinhard's images had none at 0 after their camera response, Fashion-MNIST's
 * background is exactly 0. Every log here is of {@code v + ε} with {@link #EPSILON} = 1/255, the smallest non-zero byte
 * value, and {@code ε} is subtracted again on the way back, so black stays black under a pure mean shift.
 *
 * <p>Images are flat C·H·W floats in [0, 1] (the layout of {@link ImageSet#imageFloats}); the computation is in double.
 */
public final class ToneTransfer {
    /** Offset added before every logarithm (see the class comment). */
    public static final double EPSILON = 1.0 / 255;

    /** Linear RGB → LMS, Reinhard et al. 2001, eq. 4 (RGB → XYZ → LMS combined). */
    private static final double[][] RGB_TO_LMS = {
        {0.3811, 0.5783, 0.0402},
        {0.1967, 0.7244, 0.0782},
        {0.0241, 0.1288, 0.8444}};
    /**
     * The exact inverse of {@link #RGB_TO_LMS}; the paper prints it rounded to four digits, which would leave a 1e-4
     * round-trip error in every pixel.
     */
    private static final double[][] LMS_TO_RGB = invert(RGB_TO_LMS);
    private static final double S3 = Math.sqrt(3);
    private static final double S6 = Math.sqrt(6);
    private static final double S2 = Math.sqrt(2);

    private ToneTransfer() {}

    /** Per-channel mean and (population) standard deviation of an image in the space a transfer works in. */
    public record Stats(double[] mean, double[] std) {}

    /**
     * {@code source} recoloured like {@code target}: lαβ Reinhard transfer for 3-channel images, the log-intensity form
     * for 1-channel ones. Both are C·H·W; their sizes may differ, their channel counts may not. A fresh array.
     */
    public static float[] transfer(float[] source, float[] target, int channels) {
        if (channels == 3) {
            return reinhardRgb(source, target);
        }
        if (channels == 1) {
            return reinhardGray(source, target);
        }
        throw new IllegalArgumentException("Tone transfer takes 1-channel (grayscale) or 3-channel (RGB) images, got "
                + channels + " channels");
    }

    /** Reinhard transfer of an RGB image (3·H·W) onto a target's lαβ statistics, clipped to [0, 1]. */
    public static float[] reinhardRgb(float[] source, float[] target) {
        double[][] s = toLab(source);
        Stats ss = stats(s);
        Stats ts = stats(toLab(target));
        for (int k = 0; k < 3; k++) {
            double scale = ss.std()[k] > 0 ? ts.std()[k] / ss.std()[k] : 1;
            for (int p = 0; p < s[k].length; p++) {
                s[k][p] = ts.mean()[k] + scale * (s[k][p] - ss.mean()[k]);
            }
        }
        return fromLab(s);
    }

    /**
     * The grayscale form: the image's log-intensity mean and standard deviation moved onto the target's, clipped to
     * [0, 1] — a per-image gamma and gain (class comment).
     */
    public static float[] reinhardGray(float[] source, float[] target) {
        pixels(source, 1);
        pixels(target, 1);
        double[][] s = logIntensity(source);
        Stats ss = stats(s);
        Stats ts = stats(logIntensity(target));
        double gamma = ss.std()[0] > 0 ? ts.std()[0] / ss.std()[0] : 1;
        float[] out = new float[source.length];
        for (int p = 0; p < out.length; p++) {
            double l = ts.mean()[0] + gamma * (s[0][p] - ss.mean()[0]);
            out[p] = clip(Math.exp(l) - EPSILON);
        }
        return out;
    }

    /**
     * A batch (N, C, H, W), C = 1 or 3, each image recoloured like the image of the same index in {@code targets}
     * (N', C, H', W' with N' = N; sizes may differ). The result belongs to {@code source}'s manager.
     */
    public static NDArray transfer(NDArray source, NDArray targets) {
        if (source.getShape().dimension() != 4 || targets.getShape().dimension() != 4
                || source.getShape().get(0) != targets.getShape().get(0)
                || source.getShape().get(1) != targets.getShape().get(1)) {
            throw new IllegalArgumentException("Tone transfer needs two batches (N, C, H, W) with the same N and C, got "
                    + source.getShape() + " and " + targets.getShape());
        }
        int n = (int) source.getShape().get(0);
        int c = (int) source.getShape().get(1);
        float[] s = source.toFloatArray();
        float[] t = targets.toFloatArray();
        int ds = s.length / n;
        int dt = t.length / n;
        float[] out = new float[s.length];
        for (int i = 0; i < n; i++) {
            float[] one = transfer(Arrays.copyOfRange(s, i * ds, (i + 1) * ds),
                    Arrays.copyOfRange(t, i * dt, (i + 1) * dt), c);
            System.arraycopy(one, 0, out, i * ds, ds);
        }
        return source.getManager().create(out, source.getShape());
    }

    /** An RGB image (3·H·W, [0, 1]) in lαβ: three planes of H·W values. */
    public static double[][] toLab(float[] rgb) {
        int n = pixels(rgb, 3);
        double[][] lab = new double[3][n];
        for (int p = 0; p < n; p++) {
            double r = rgb[p];
            double g = rgb[n + p];
            double b = rgb[2 * n + p];
            double ll = Math.log10(RGB_TO_LMS[0][0] * r + RGB_TO_LMS[0][1] * g + RGB_TO_LMS[0][2] * b + EPSILON);
            double lm = Math.log10(RGB_TO_LMS[1][0] * r + RGB_TO_LMS[1][1] * g + RGB_TO_LMS[1][2] * b + EPSILON);
            double ls = Math.log10(RGB_TO_LMS[2][0] * r + RGB_TO_LMS[2][1] * g + RGB_TO_LMS[2][2] * b + EPSILON);
            // Reinhard eq. 6: l = (L + M + S)/√3, α = (L + M − 2S)/√6, β = (L − M)/√2
            lab[0][p] = (ll + lm + ls) / S3;
            lab[1][p] = (ll + lm - 2 * ls) / S6;
            lab[2][p] = (ll - lm) / S2;
        }
        return lab;
    }

    /** lαβ planes back to an RGB image (3·H·W), clipped to [0, 1]. */
    public static float[] fromLab(double[][] lab) {
        int n = lab[0].length;
        float[] rgb = new float[3 * n];
        for (int p = 0; p < n; p++) {
            double l = lab[0][p] / S3;
            double a = lab[1][p] / S6;
            double b = lab[2][p] / S2;
            // inverse of eq. 6: L = l/√3 + α/√6 + β/√2, M = l/√3 + α/√6 − β/√2, S = l/√3 − 2α/√6
            double lmsL = Math.pow(10, l + a + b) - EPSILON;
            double lmsM = Math.pow(10, l + a - b) - EPSILON;
            double lmsS = Math.pow(10, l - 2 * a) - EPSILON;
            for (int k = 0; k < 3; k++) {
                rgb[k * n + p] = clip(LMS_TO_RGB[k][0] * lmsL + LMS_TO_RGB[k][1] * lmsM + LMS_TO_RGB[k][2] * lmsS);
            }
        }
        return rgb;
    }

    /** A grayscale image's natural-log intensity, ln(I + ε), as one plane. */
    public static double[][] logIntensity(float[] gray) {
        double[][] out = new double[1][gray.length];
        for (int p = 0; p < gray.length; p++) {
            out[0][p] = Math.log(gray[p] + EPSILON);
        }
        return out;
    }

    /** Mean and population standard deviation of each plane. */
    public static Stats stats(double[][] planes) {
        double[] mean = new double[planes.length];
        double[] std = new double[planes.length];
        for (int k = 0; k < planes.length; k++) {
            double s = 0;
            for (double v : planes[k]) {
                s += v;
            }
            mean[k] = s / planes[k].length;
            double q = 0;
            for (double v : planes[k]) {
                q += (v - mean[k]) * (v - mean[k]);
            }
            std[k] = Math.sqrt(q / planes[k].length);
        }
        return new Stats(mean, std);
    }

    private static int pixels(float[] image, int channels) {
        if (image.length == 0 || image.length % channels != 0) {
            throw new IllegalArgumentException("An image of " + channels + " channels needs a non-empty C·H·W array "
                    + "whose length is a multiple of " + channels + ", got " + image.length + " values");
        }
        return image.length / channels;
    }

    private static float clip(double v) {
        return (float) Math.min(1, Math.max(0, v));
    }

    private static double[][] invert(double[][] m) {
        double a = m[0][0];
        double b = m[0][1];
        double c = m[0][2];
        double d = m[1][0];
        double e = m[1][1];
        double f = m[1][2];
        double g = m[2][0];
        double h = m[2][1];
        double i = m[2][2];
        double det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
        return new double[][] {
            {(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det},
            {(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det},
            {(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det}};
    }
}
