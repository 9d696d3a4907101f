package org.lustra.eval;

/**
 * One evaluated sample of one cell and run, as written (one JSON line) to {@code samples.jsonl}.
 *
 * @param cleanCorrect the defended model classifies the clean image correctly (K-vote for randomised defences)
 * @param robust the defended model classifies the final adversarial input correctly (K-vote)
 * @param anyCopyFooled for randomised defences: at least one of the K evaluations was wrong (null otherwise)
 * @param distLinf ℓ∞ distance adversarial − clean
 * @param patchArea pixels covered by the patch (patch attacks), else null
 * @param msPerImage attack wall time per image of its chunk
 */
public record SampleRecord(long seed, String cell, int chunk, int index, int label, int cleanPrediction,
        int adversarialPrediction, boolean cleanCorrect, boolean robust, Boolean anyCopyFooled, int votes,
        double distLinf, double distL2, double psnr, double ssim, Double patchArea, double msPerImage,
        long forwardImagesPerImage) {}
