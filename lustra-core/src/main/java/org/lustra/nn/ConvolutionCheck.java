package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.lustra.util.LustraException;

/**
 * Whether this machine's convolution backward pass gives right input gradients, checked once per JVM before any
 * gradient is trusted.
 *
 * <p>Why: PyTorch 2.7.1's CPU convolutions run on oneDNN 3.7.1, and on an AMD Zen 5 CPU (AVX-512) its
 * backward-by-data kernels return wrong input gradients for batches of two or more images at some shapes, while the
 * forward pass and batches of one are right. Measured 2026-12-01: 1→24 channels at 28×28 (the stem of
 * classifier-resnet, so every white-box attack on it), 24→24 at 28×28, 48→96 stride 2 at 14×14, 3→5 at 8×8 (the tiny
 * test networks); under AVX2 also 32→1 at 28×28 (the UNet's output layer), with NaN. Per-image gradients computed in a
 * batch differed from the same images' gradients computed alone by up to 100 % of their size. Capping oneDNN's
 * instruction set with the environment variable {@code DNNL_MAX_CPU_ISA=AVX} — read once, when the library loads, so
 * it cannot be set from inside the JVM — made every probe right; {@code ./lustra} and the test setup set it. It costs
 * speed (UNet forward+backward ≈ 1.6× slower than AVX-512 on that CPU), which is why the check looks, instead of
 * capping blindly.
 *
 * <p>The probe: for each shape, the input gradient of Σ w·conv(x) for a batch of two must equal each image's gradient
 * computed alone (a convolution treats images independently, so any difference is the bug).
 */
public final class ConvolutionCheck {
    /**
     * Channel counts of the 3×3 convolutions our mask networks build are multiples of this. Measured 1 December with
     * {@code DNNL_MAX_CPU_ISA=AVX}: a 3×3 convolution forward with 12 input channels (→ 4, batch 16, 16×16) read
     * uninitialised memory — after freeing tensors full of NaN, 64 of 100 fresh forwards came out NaN (weights and
     * inputs finite; 1, 3, 4 and 8 input channels and 1×1 convolutions stayed finite). oneDNN pads channels to its
     * 8-wide AVX block, and the padded lanes were not zero (NaN·0 = NaN). This was the NaN untrained loss of
     * SacTrainingTest's width-4 segmenter (its up level concatenates 8 + 4 = 12 channels) in full test suites, whose
     * freed memory holds earlier tests' values; a JVM of its own hands out zeroed pages, hence no NaN there.
     */
    public static final int CHANNEL_BLOCK = 8;

    /** {in channels, out channels, size, kernel, stride}: shapes seen to fail, one per kind of failure. */
    private static final int[][] PROBES = {{1, 24, 28, 3, 1}, {24, 24, 28, 3, 1}, {48, 96, 14, 3, 2}, {3, 5, 8, 3, 1},
        {32, 1, 28, 3, 1}, {16, 5, 8, 3, 1}};

    private static volatile String problem;
    private static volatile boolean checked;

    private ConvolutionCheck() {}

    /**
     * Throws a {@link LustraException} naming the problem and the fix when the engine's convolution input gradients
     * are wrong here; runs the probes on the first call only (about 0.1 s).
     */
    public static void require() {
        String p = problem();
        if (p != null) {
            throw new LustraException(p);
        }
    }

    /** The problem in one sentence, or null when the probes pass. */
    public static String problem() {
        if (!checked) {
            synchronized (ConvolutionCheck.class) {
                if (!checked) {
                    problem = probe();
                    checked = true;
                }
            }
        }
        return problem;
    }

    static String probe() {
        List<String> failures = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager()) {
            SplittableRandom rng = new SplittableRandom(20261201L);
            for (int[] p : PROBES) {
                double err = batchError(m, p, rng);
                if (!(err <= 1e-4)) {
                    failures.add(String.format(Locale.ROOT, "%d→%d channels at %d×%d, stride %d: error %.2g", p[0],
                            p[1], p[2], p[2], p[4], err));
                }
            }
        }
        if (failures.isEmpty()) {
            return null;
        }
        String isa = System.getenv("DNNL_MAX_CPU_ISA");
        return "This machine's PyTorch computes wrong convolution input gradients for batches (oneDNN, "
                + (isa == null || isa.isBlank() ? "DNNL_MAX_CPU_ISA unset" : "DNNL_MAX_CPU_ISA=" + isa) + "; " + String.join("; ",
                        failures) + "), so no attack or training result would be right: start Java with the "
                + "environment variable DNNL_MAX_CPU_ISA=AVX (./lustra and the Maven tests set it).";
    }

    /** Largest |batched − alone| input-gradient difference of one probe, relative to the gradient's size. */
    private static double batchError(NDManager base, int[] p, SplittableRandom rng) {
        int in = p[0];
        int out = p[1];
        int size = p[2];
        int k = p[3];
        int stride = p[4];
        int outSize = (size + 2 * (k / 2) - k) / stride + 1;
        try (NDManager m = base.newSubManager()) {
            NDArray weight = m.create(gaussian(rng, out * in * k * k), new Shape(out, in, k, k));
            NDArray x = m.create(gaussian(rng, 2 * in * size * size), new Shape(2, in, size, size));
            NDArray w = m.create(gaussian(rng, 2 * out * outSize * outSize), new Shape(2, out, outSize, outSize));
            float[] both = inputGradient(m, x, w, weight, k, stride);
            int d = in * size * size;
            double diff = 0;
            double scale = 1e-6;
            for (int i = 0; i < 2; i++) {
                float[] alone = inputGradient(m, x.get(i + ":" + (i + 1)), w.get(i + ":" + (i + 1)), weight, k, stride);
                for (int j = 0; j < d; j++) {
                    float b = both[i * d + j];
                    diff = Float.isFinite(b) ? Math.max(diff, Math.abs(b - alone[j])) : Double.POSITIVE_INFINITY;
                    scale = Math.max(scale, Math.abs(alone[j]));
                }
            }
            return diff / scale;
        }
    }

    /**
     * The probe runs on first use, which may be inside an attack's open gradient collector (DJL allows one at a time),
     * so it differentiates with the engine's backward directly, as {@link Autograd} does, and restores grad mode.
     */
    private static float[] inputGradient(NDManager base, NDArray x, NDArray w, NDArray weight, int k, int stride) {
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try (NDManager s = base.newSubManager()) {
            NDArray xx = x.stopGradient().duplicate(); // the probe's own leaf; x stays untouched
            xx.attach(s);
            xx.setRequiresGradient(true);
            NDArray y = Conv2d.conv2d(xx, weight, null, new Shape(stride, stride), new Shape(k / 2, k / 2),
                    new Shape(1, 1), 1).singletonOrThrow();
            NDArray loss = y.mul(w).sum();
            JniUtils.backward((PtNDArray) loss, (PtNDArray) s.ones(loss.getShape()), false, false);
            return xx.getGradient().toFloatArray();
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    private static float[] gaussian(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return v;
    }
}
