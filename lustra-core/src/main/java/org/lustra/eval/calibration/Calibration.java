package org.lustra.eval.calibration;

import java.util.List;
import java.util.Map;

/**
 * What {@code lustra calibrate} chose and the measurement that chose it; written as
 * {@code docs/results/calibration/KEY.json}, where {@link org.lustra.defense.Calibrations} reads
 * {@code chosenSpec} (only when {@code ruleMet}).
 *
 * @param defence the defence calibrated, as its bare spec ({@code dw}, {@code sac:NAME}, {@code jedi:morph}, …)
 * @param key the calibration key (file name without .json)
 * @param classifier the protected classifier
 * @param rule the selection rule, in words
 * @param ruleMet whether any candidate satisfied the rule's constraints
 * @param chosenSpec the chosen candidate's spec (or, when no candidate met the rule, the least bad one: not used)
 * @param data the images: which, how many, which attack made the patches
 * @param reference the undefended classifier's clean and patched accuracy on the same images
 * @param candidates every candidate's measurements, in the order tried
 * @param command the command line
 * @param seed the seed of the patch attack
 * @param created ISO time
 * @param versions Lustra, DJL, PyTorch and Java versions
 */
public record Calibration(String defence, String key, String classifier, String rule, boolean ruleMet,
        String chosenSpec, Map<String, Object> data, Map<String, Object> reference, List<Candidate> candidates,
        String command, long seed, String created, Map<String, String> versions) {

    /**
     * One candidate's measurements.
     *
     * @param spec the explicit spec tried
     * @param cleanAccuracy accuracy on the clean images after the defence
     * @param patchedAccuracy accuracy on the patched images after the defence (non-adaptive)
     * @param cleanMask mask scores on clean images (masked share = false-positive pixel rate); null for FNC
     * @param patchedMask mask scores against the true patch masks; null for FNC
     * @param admissible whether it met the rule's constraints
     */
    public record Candidate(String spec, double cleanAccuracy, double patchedAccuracy, Map<String, Object> cleanMask,
            Map<String, Object> patchedMask, boolean admissible) {}
}
