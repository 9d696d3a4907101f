package org.lustra.attack;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import java.util.function.Function;

/** Linear multi-class targets on 1×4×4 images whose optimal attacks are known in closed form. */
final class LinearTargets {
    static final int D = 16;
    static final int K = 10;
    static final Shape IMAGE = new Shape(1, 4, 4);

    private LinearTargets() {}

    /** W (D × K), entries in [−1, 1], fixed by a seed. */
    static float[] weights() {
        SplittableRandom r = new SplittableRandom(42);
        float[] w = new float[D * K];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (2 * r.nextDouble() - 1);
        }
        return w;
    }

    static Function<NDArray, NDArray> linear(NDManager m) {
        NDArray w = m.create(weights(), new Shape(D, K));
        return x -> x.reshape(x.getShape().get(0), D).matMul(w);
    }

    /** Images in [0.2, 0.8] with the label the linear model predicts. */
    static float[] images(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * D];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.2 + 0.6 * r.nextDouble());
        }
        return x;
    }

    static int[] predicted(float[] x, int n) {
        float[] w = weights();
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < K; k++) {
                double z = 0;
                for (int j = 0; j < D; j++) {
                    z += x[i * D + j] * w[j * K + k];
                }
                if (z > best) {
                    best = z;
                    y[i] = k;
                }
            }
        }
        return y;
    }

    /**
     * Smallest ℓ2 (p = 2) or ℓ∞ distance to the linear boundary of any other class, ignoring the box (exact when the
     * box is not active: images sit in [0.2, 0.8] and the distances used are small).
     */
    static double minimalDistance(float[] x, int i, int y, Norm norm) {
        return distanceTo(x, i, y, nearestClass(x, i, y, norm), norm);
    }

    /** The class whose linear boundary with y is nearest to image i. */
    static int nearestClass(float[] x, int i, int y, Norm norm) {
        int best = -1;
        for (int t = 0; t < K; t++) {
            if (t != y && (best < 0 || distanceTo(x, i, y, t, norm) < distanceTo(x, i, y, best, norm))) {
                best = t;
            }
        }
        return best;
    }

    static double distanceTo(float[] x, int i, int y, int t, Norm norm) {
        float[] w = weights();
        double margin = 0;
        double dual = 0;
        for (int j = 0; j < D; j++) {
            double v = w[j * K + y] - w[j * K + t];
            margin += x[i * D + j] * v;
            dual = norm == Norm.L2 ? dual + v * v : dual + Math.abs(v);
        }
        return margin / (norm == Norm.L2 ? Math.sqrt(dual) : dual);
    }
}
