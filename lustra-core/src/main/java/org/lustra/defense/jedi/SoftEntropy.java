package org.lustra.defense.jedi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.pooling.Pool;
import org.lustra.nn.Scalars;

/**
 * A differentiable relaxation of {@link EntropyMap}, for attackers of Jedi (issue 16). The hard map quantises each
 * grey level into one of B equal bins of [0, 1]; its entropy is piecewise constant in the pixels (zero derivative
 * almost everywhere). Here a pixel with u = B·v belongs to bin b with weight
 * <pre>  w_b(u) = ramp(u − b) − ramp(u − b − 1),   ramp(d) = clip(d/(2h) + ½, 0, 1),</pre>
 * the first term 1 for b = 0 and the second 0 for b = B − 1: a soft indicator of [b, b + 1) in bin units whose edges
 * are linear ramps of half-width h. The weights sum to exactly 1 (the sum telescopes); a pixel farther than h from
 * every bin edge falls in its hard bin with weight exactly 1 (so its window's histogram is the hard one), and a pixel
 * within h of an edge is split linearly between the two bins, with derivative 1/(2h). At h = ½ this is the
 * triangular kernel (linear interpolation between bin centres), where every pixel carries a gradient. A window's soft
 * histogram is the mean of its pixels' weights over the in-image (2r+1)² window (an average pool that does not count
 * padding, as the hard map does not pad), and its entropy −Σ p·log₂ p is the soft map.
 *
 * <p>Why a ramp and not a sigmoid or Gaussian soft bin: their tails reach every bin, and −ε·log ε is steep at 0, so a
 * leak of 0.5 % per pixel (a sigmoid edge of temperature 0.1 bin, half a bin away) already adds 0.05 bits to a
 * two-level window; a ramp leaks nothing beyond h. h trades agreement with the hard map against how many pixels carry
 * a gradient (a share 2h of uniformly spread levels; {@link #HALF_WIDTH}).
 */
public final class SoftEntropy {
    /**
     * h = ¼ bin: half of uniformly spread grey levels carry a gradient, the other half are exactly hard. Agreement with
     * the hard map measured in {@code JediDetectorTest}.
     */
    public static final double HALF_WIDTH = 0.25;

    /** p·log p uses log(max(p, FLOOR)): 0·log 0 = 0, and an empty soft bin has a finite derivative. */
    private static final float FLOOR = 1e-12f;

    private SoftEntropy() {}

    /**
     * Grey levels (N, 1, H, W) of images (N, C, H, W), as {@link EntropyMap#grey}: the channel for C = 1, BT.601 luma
     * for C = 3, the channel mean otherwise. Owned by x's manager.
     */
    public static NDArray grey(NDArray x) {
        long c = x.getShape().get(1);
        if (c == 1) {
            return x;
        }
        float[] w = c == 3 ? new float[] {0.299f, 0.587f, 0.114f} : uniform((int) c);
        NDArray weights = Scalars.owned(x.getManager(), w, new Shape(1, c, 1, 1));
        return x.mul(weights).sum(new int[] {1}, true);
    }

    /**
     * The soft entropy map in bits (N, 1, H, W) of grey levels (N, 1, H, W) in [0, 1], windows of radius
     * {@code radius}, {@code bins} bins, edge ramps of half-width {@code h} in bin units (0 &lt; h ≤ ½);
     * differentiable. Owned by grey's manager.
     */
    public static NDArray bits(NDArray grey, int radius, int bins, double h) {
        long[] s = grey.getShape().getShape();
        if (s.length != 4 || s[1] != 1 || radius < 1 || radius > 32 || bins < 2 || bins > 256 || !(h > 0 && h <= 0.5)) {
            throw new IllegalArgumentException("Invalid soft entropy map: grey levels of shape " + grey.getShape()
                    + " ((N, 1, H, W)), radius " + radius + " (1..32), bins " + bins + " (2..256), ramp half-width " + h
                    + " (0 < h <= 0.5 bin)");
        }
        NDManager m = grey.getManager();
        float[] e = new float[bins - 1];
        for (int k = 0; k < e.length; k++) {
            e[k] = k + 1;
        }
        NDArray edges = Scalars.owned(m, e, new Shape(1, bins - 1, 1, 1));
        NDArray u = Scalars.mul(grey.clip(0f, 1f), bins);
        // above[k] = ramp(u − (k+1)): how far past edge k+1 the pixel is, 0 before it, 1 beyond it by h
        NDArray above = Scalars.div(u.sub(edges), 2 * h).add(0.5f).clip(0f, 1f);
        NDArray padded = NDArrays.concat(new NDList(m.ones(new Shape(s[0], 1, s[2], s[3])), above,
                m.zeros(new Shape(s[0], 1, s[2], s[3]))), 1);
        NDArray weights = padded.get(new NDIndex(":, 0:" + bins)).sub(padded.get(new NDIndex(":, 1:" + (bins + 1))));
        int k = 2 * radius + 1;
        // the window's in-image mean: sum-pool over count-pool. (DJL's count_include_pad flag did not exclude the
        // padding here — a corner window of one level came out at 0.53 bits — so the count is pooled explicitly.)
        Shape kernel = new Shape(k, k);
        Shape stride = new Shape(1, 1);
        Shape pad = new Shape(radius, radius);
        NDArray counts = Pool.avgPool2d(m.ones(new Shape(1, 1, s[2], s[3])), kernel, stride, pad, false, true);
        NDArray p = Pool.avgPool2d(weights, kernel, stride, pad, false, true).div(counts);
        // clip, not maximum(Number): a clamp keeps its bound as a scalar, while maximum saves a Java-backed tensor for
        // the backward pass (see nn.Scalars)
        NDArray plogp = p.mul(p.clip(FLOOR, Float.MAX_VALUE).log());
        return Scalars.div(plogp.sum(new int[] {1}, true), -Math.log(2));
    }

    /**
     * The soft kernel map σ((H̃ − cut)/slope) of a soft entropy map H̃ (bits), cut = θ·{@link EntropyMap#maxBits}.
     * Owned by bits' manager.
     */
    public static NDArray kernels(NDArray bits, int radius, int bins, double theta, double slope) {
        double cut = theta * EntropyMap.maxBits(radius, bins);
        return Activation.sigmoid(Scalars.div(bits.sub((float) cut), slope));
    }

    private static float[] uniform(int c) {
        float[] w = new float[c];
        java.util.Arrays.fill(w, 1f / c);
        return w;
    }
}
