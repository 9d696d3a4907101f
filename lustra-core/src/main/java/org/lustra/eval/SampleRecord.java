package org.lustra.eval;

/**
 * One evaluated sample of one cell and run, as written (one JSON line) to {@code samples.jsonl}. Fields added by
 * harness v2 are boxed and {@code null} in records written before it.
 *
 * @param cleanCorrect the defended model classifies the clean image correctly (K-vote for randomised defences)
 * @param robust the defended model classifies the final adversarial input correctly by the majority of K fresh
 *     evaluations (a tie counts as fooled)
 * @param anyCopyFooled for randomised defences: at least one of the K evaluations was wrong — the worst case over
 *     re-submissions (null otherwise)
 * @param distLinf ℓ∞ distance adversarial − clean
 * @param patchArea pixels covered by the patch (patch attacks), else null
 * @param msPerImage attack wall time per image of its chunk
 * @param singleRobust the first of the K evaluations alone was correct (a single draw)
 * @param nonFinite the attack's output had a non-finite pixel: a failed attack, scored on the clean image and flagged
 * @param patchValid patch attacks: pixels outside the patch unchanged and the patch inside [0, 1]
 * @param chunkGradientRows gradient rows the attack computed for this sample's chunk (same on every record of it)
 * @param chunkNonFiniteGradients of those, rows with a non-finite value (zeroed, no step taken)
 * @param chunkZeroGradients of those, rows that were exactly zero
 * @param route for worst-of cells, the gradient route whose attack gave this image's worst outcome; in a later route cell
 *     of a "skipFooled" run, the earlier route whose worst (fooled on every vote) a skipped image carries; null where
 *     this route attacked the image
 * @param purified fidelity of the defence's output to the clean image (seed 003's PSNR/SSIM of purified images), from
 *     the first judging evaluation; null for the undefended classifier and in records written before 1 December
 * @param patchMasked patch attacks against a defence that masks a region and replaces it (DIFFender, SAC-like, Jedi,
 *     DW): the share of the true patch's pixels inside the region the first judging evaluation replaced — near 1 the
 *     detector found the patch (a fooled image then beat the replacement), near 0 it was evaded; null otherwise and
 *     in records written before 3 December (afternoon)
 */
public record SampleRecord(long seed, String cell, int chunk, int index, int label, int cleanPrediction,
        int adversarialPrediction, boolean cleanCorrect, boolean robust, Boolean anyCopyFooled, int votes,
        double distLinf, double distL2, double psnr, double ssim, Double patchArea, double msPerImage,
        long forwardImagesPerImage, Boolean singleRobust, Boolean nonFinite, Boolean patchValid,
        Long chunkGradientRows, Long chunkNonFiniteGradients, Long chunkZeroGradients, String route,
        Fidelity purified, Double patchMasked) {

    /**
     * PSNR (dB, +∞ when identical) and SSIM of purified images against the clean image: the purified final
     * (adversarial) input, and the purified clean image.
     */
    public record Fidelity(double psnr, double ssim, double cleanPsnr, double cleanSsim) {}

    /** A record without fidelity or patch masking (as written before they existed); for tests and readers of old runs. */
    public SampleRecord(long seed, String cell, int chunk, int index, int label, int cleanPrediction,
            int adversarialPrediction, boolean cleanCorrect, boolean robust, Boolean anyCopyFooled, int votes,
            double distLinf, double distL2, double psnr, double ssim, Double patchArea, double msPerImage,
            long forwardImagesPerImage, Boolean singleRobust, Boolean nonFinite, Boolean patchValid,
            Long chunkGradientRows, Long chunkNonFiniteGradients, Long chunkZeroGradients, String route) {
        this(seed, cell, chunk, index, label, cleanPrediction, adversarialPrediction, cleanCorrect, robust,
                anyCopyFooled, votes, distLinf, distL2, psnr, ssim, patchArea, msPerImage, forwardImagesPerImage,
                singleRobust, nonFinite, patchValid, chunkGradientRows, chunkNonFiniteGradients, chunkZeroGradients,
                route, null, null);
    }

    /** A v1-shaped record (the v2 fields null), for tests and readers of old runs. */
    public SampleRecord(long seed, String cell, int chunk, int index, int label, int cleanPrediction,
            int adversarialPrediction, boolean cleanCorrect, boolean robust, Boolean anyCopyFooled, int votes,
            double distLinf, double distL2, double psnr, double ssim, Double patchArea, double msPerImage,
            long forwardImagesPerImage) {
        this(seed, cell, chunk, index, label, cleanPrediction, adversarialPrediction, cleanCorrect, robust,
                anyCopyFooled, votes, distLinf, distL2, psnr, ssim, patchArea, msPerImage, forwardImagesPerImage, null,
                null, null, null, null, null, null, null, null);
    }

    /** Single-draw robustness; for v1 records (no field) the majority stands in. */
    public boolean singleDrawRobust() {
        return singleRobust != null ? singleRobust : robust;
    }
}
