package org.lustra.defense.learned;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.lustra.attack.AttackModel;
import org.lustra.attack.Norm;
import org.lustra.attack.Pgd;
import org.lustra.model.Classifier;

/**
 * The adversarial half of a training pair, made on the fly: ℓ∞ PGD against the protected classifier (the non-adaptive
 * attacker the purifier is trained for), several budgets per batch. The batch is cut into one slice per ε, in an
 * order rotated by a draw from the step's generator; ε = 0 gives the clean image (clean pairs mixed in). Each slice's
 * random start is seeded by the next draw of the same generator, so a step's pairs replay exactly.
 *
 * <p>Every sample runs all PGD iterations and keeps its highest-loss iterate (Madry et al.'s training example): the
 * classifier is presented to {@link Pgd} as a randomised target with one vote, which is exactly that route. Pgd's
 * deterministic route stops each sample at its first success and would teach the purifier only the smallest
 * perturbations that flip a label.
 */
final class AdversarialPairs {
    private AdversarialPairs() {}

    /**
     * Adversarial versions of the n images {@code clean} (flat, [0, 1]) with true {@code labels}; scratch arrays live
     * under {@code parent} and are freed before returning.
     */
    static float[] generate(Classifier classifier, NDManager parent, float[] clean, int[] labels, Shape image,
            List<Double> epsilons, int pgdSteps, SplittableRandom rng) {
        int n = labels.length;
        int per = Math.toIntExact(image.size());
        float[] out = clean.clone();
        int k = epsilons.size();
        int rotation = rng.nextInt(k);
        AttackModel target = new AttackModel(classifier::logits, null, parent, image, 1, true, 1);
        for (int slice = 0; slice < k; slice++) {
            int from = slice * n / k;
            int to = (slice + 1) * n / k;
            double eps = epsilons.get((slice + rotation) % k);
            long seed = rng.nextLong();
            if (eps == 0 || to == from) {
                continue;
            }
            float[] x = Arrays.copyOfRange(clean, from * per, to * per);
            int[] y = Arrays.copyOfRange(labels, from, to);
            float[] adv = Pgd.attack(target, x, y, new Pgd.Options(Norm.LINF, eps, pgdSteps, 0, true, seed), null)
                    .adversarial();
            System.arraycopy(adv, 0, out, from * per, adv.length);
        }
        return out;
    }
}
