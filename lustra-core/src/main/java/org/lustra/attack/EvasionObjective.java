package org.lustra.attack;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.lustra.nn.Scalars;

/**
 * The evade-then-fool objective of {@link EvadeLaVan} and its input gradient, per image:
 * J = min(max_{j≠y} z_j − z_y, κ) − λ·D, where z are the bare classifier's logits on the patched image and D is the
 * detector's soft mask averaged over the patch's pixels and over E EOT copies (fresh detector noise per copy). One
 * autograd graph through the classifier and the detector; the defence's replacement step never enters (its output is
 * the input wherever nothing is detected, so an undetected patch meets the classifier as it is). Engine work happens in
 * a scratch manager closed before returning; gradient rows go through the model's non-finite check and counters.
 */
final class EvasionObjective {

    /**
     * @param objective J per image
     * @param gradient dJ/dx, flat (n·C·H·W), non-finite rows zeroed
     * @param logits the classifier's logits, flat (n·K)
     * @param detection D per image (mean over copies of the soft mask inside the patch)
     * @param classes K
     */
    record Value(float[] objective, float[] gradient, float[] logits, float[] detection, int classes) {}

    private EvasionObjective() {}

    /**
     * Evaluates J for the n images {@code x} with true {@code labels}, patch masks {@code masks} (flat n·H·W, 1 inside
     * the patch), weights {@code lambdas} (n) and cap {@code kappa}, through {@code model}'s detector with its EOT copies.
     */
    static Value evaluate(AttackModel model, float[] x, int n, int[] labels, float[] masks, float[] lambdas,
            double kappa) {
        DetectorView view = model.detector();
        Shape image = model.imageShape();
        int h = (int) image.get(1);
        int w = (int) image.get(2);
        int e = model.eot();
        try (NDManager m = model.parent().newSubManager()) {
            NDArray xa = m.create(x, new Shape(n, image.get(0), h, w));
            xa.setRequiresGradient(true);
            float[] objective;
            float[] detection;
            float[] logits;
            int k;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray z = view.classifierLogits(xa);
                k = Math.toIntExact(z.getShape().get(1));
                NDArray oneHot = Scalars.owned(m, oneHot(labels, k), new Shape(n, k));
                NDArray zy = z.mul(oneHot).sum(new int[] {1});
                NDArray margin = z.sub(Scalars.mul(oneHot, 1e4)).max(new int[] {1}).sub(zy);
                NDArray fool = margin.clip(-Float.MAX_VALUE, (float) kappa);
                NDArray rows = e == 1 ? xa : xa.tile(new long[] {e, 1, 1, 1});
                NDArray soft = view.softDetection(rows); // (e·n, 1, H, W), copy-major
                NDArray patch = Scalars.owned(m, tile(masks, e), new Shape((long) e * n, 1, h, w));
                NDArray area = patch.sum(new int[] {1, 2, 3});
                NDArray inside = soft.mul(patch).sum(new int[] {1, 2, 3}).div(area);
                NDArray d = e == 1 ? inside : inside.reshape(e, n).mean(new int[] {0});
                NDArray j = fool.sub(d.mul(Scalars.owned(m, lambdas, new Shape(n))));
                objective = j.toFloatArray();
                detection = d.toFloatArray();
                logits = z.toFloatArray();
                gc.backward(j.sum());
            }
            model.countForwards((long) n * (1 + e));
            NDArray g = xa.getGradient();
            g.attach(m);
            AttackModel.Evaluation ev = model.sanitized(new AttackModel.Evaluation(objective, g.toFloatArray(), logits,
                    k), n);
            return new Value(ev.loss(), ev.gradient(), logits, detection, k);
        }
    }

    /**
     * Per image, how many of {@code votes} fresh hard detections cover more than {@code coverage} of its patch, and
     * the mean covered fraction; no gradient.
     */
    static int[] detectionVotes(AttackModel model, float[] x, int n, float[] masks, int votes, double coverage,
            double[] meanCovered) {
        Shape image = model.imageShape();
        int plane = (int) (image.get(1) * image.get(2));
        int[] out = new int[n];
        java.util.Arrays.fill(meanCovered, 0, n, 0);
        for (int v = 0; v < votes; v++) {
            try (NDManager m = model.parent().newSubManager()) {
                float[] hard = model.detector().detection(m.create(x, new Shape(n, image.get(0), image.get(1),
                        image.get(2)))).toFloatArray();
                model.countForwards(n);
                for (int i = 0; i < n; i++) {
                    double covered = covered(hard, masks, i, plane);
                    meanCovered[i] += covered / votes;
                    out[i] += covered > coverage ? 1 : 0;
                }
            }
        }
        return out;
    }

    /** The fraction of image i's patch pixels that the hard mask marks. */
    static double covered(float[] hard, float[] masks, int i, int plane) {
        int inside = 0;
        int hit = 0;
        for (int j = i * plane; j < (i + 1) * plane; j++) {
            if (masks[j] > 0.5f) {
                inside++;
                hit += hard[j] > 0.5f ? 1 : 0;
            }
        }
        return inside == 0 ? 0 : (double) hit / inside;
    }

    private static float[] oneHot(int[] labels, int k) {
        float[] oh = new float[labels.length * k];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= k) {
                throw new IllegalArgumentException("Label " + labels[i] + " outside 0.." + (k - 1));
            }
            oh[i * k + labels[i]] = 1f;
        }
        return oh;
    }

    private static float[] tile(float[] a, int times) {
        float[] out = new float[a.length * times];
        for (int t = 0; t < times; t++) {
            System.arraycopy(a, 0, out, t * a.length, a.length);
        }
        return out;
    }
}
