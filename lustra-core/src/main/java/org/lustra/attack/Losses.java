package org.lustra.attack;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lustra.attack.AttackModel.Loss;
import org.lustra.nn.Scalars;

/** The attack objectives of {@link AttackModel.Loss}, per row of a logits batch (larger = closer to the goal). */
final class Losses {
    private Losses() {}

    /** Per-row loss (rows of {@code z}), in {@code m}. */
    static NDArray perSampleLoss(NDManager m, NDArray z, Loss loss, int[] labels, int[] targets, int k) {
        NDArray onehotY = oneHot(m, labels, k);
        NDArray zy = z.mul(onehotY).sum(new int[] {1});
        switch (loss) {
            case CE:
                return z.logSoftmax(1).mul(onehotY).sum(new int[] {1}).neg();
            case DLR: {
                if (k < 3) {
                    throw new IllegalArgumentException("DLR needs at least 3 classes, got " + k);
                }
                NDArray sorted = z.sort(1);
                NDArray other = z.sub(onehotY.mul(1e4f)).max(new int[] {1});
                NDArray denom = sorted.get(":, " + (k - 1)).sub(sorted.get(":, " + (k - 3))).add(1e-12f);
                return zy.sub(other).div(denom).neg();
            }
            case DLR_TARGETED: {
                if (k < 4) {
                    throw new IllegalArgumentException("Targeted DLR needs at least 4 classes, got " + k);
                }
                NDArray zt = z.mul(oneHot(m, targets, k)).sum(new int[] {1});
                NDArray sorted = z.sort(1);
                NDArray denom = sorted.get(":, " + (k - 1))
                        .sub(Scalars.mul(sorted.get(":, " + (k - 3)).add(sorted.get(":, " + (k - 4))), 0.5)).add(1e-12f);
                return zy.sub(zt).div(denom).neg();
            }
            case TARGET_MARGIN:
                return z.mul(oneHot(m, targets, k)).sum(new int[] {1}).sub(zy);
            case MARGIN:
                return z.sub(Scalars.mul(onehotY, 1e4)).max(new int[] {1}).sub(zy);
            default:
                throw new IllegalStateException(loss.name());
        }
    }

    private static NDArray oneHot(NDManager m, int[] labels, int k) {
        float[] oh = new float[labels.length * k];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= k) {
                throw new IllegalArgumentException("Label " + labels[i] + " outside 0.." + (k - 1));
            }
            oh[i * k + labels[i]] = 1f;
        }
        return m.create(oh, new Shape(labels.length, k));
    }
}
