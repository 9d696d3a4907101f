package org.lustra.attack;

/**
 * The outcome of an attack on a batch: the final inputs (for each sample the first successful one, else the best or
 * last iterate), which samples were fooled (prediction ≠ label on the attack's own check), and the cost.
 *
 * @param adversarial flat (N·C·H·W), in [0, 1]
 * @param fooled per sample
 * @param forwardImages images passed through the target (EOT copies counted)
 */
public record AttackResult(float[] adversarial, boolean[] fooled, long forwardImages) {

    public double robustAccuracy() {
        int robust = 0;
        for (boolean f : fooled) {
            robust += f ? 0 : 1;
        }
        return fooled.length == 0 ? 0 : (double) robust / fooled.length;
    }
}
