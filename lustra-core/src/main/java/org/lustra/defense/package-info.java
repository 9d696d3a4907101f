/**
 * Defences by test-time input purification, and how an attack's gradient passes them. A {@link Purifier} maps images
 * in [0, 1] to purified images, seeded so that a call replays exactly; a {@link DefendedClassifier} is classifier ∘
 * purifier, and its logits and loss gradients always name a {@link GradientMode} (EXACT, SURROGATE, BPDA, STE).
 * Two capabilities widen the modes a purifier offers: a {@link RecomputablePurifier} gives exact gradients through a
 * long chain by recomputing it step by step with replayed noise (and a coarse surrogate), and a
 * {@link ThresholdedPurifier} passes its hard thresholds straight through ({@link Ste}). A {@link MaskingPurifier}
 * can say which region it replaced (masks and anomaly maps for the CLI); {@link MaskScores} scores such masks against
 * true ones, the one implementation every mask measurement uses. "No defence" is the {@link Identity} purifier, never
 * {@code null}.
 *
 * <p>A {@link DefenseSpec} is a defence spec string (jpeg:75, diffpure:0.1:ddim10, diffender:ep:rec, ...) parsed once
 * into a value; a {@link DefenseFactory} builds its purifier and owns the diffusion model the diffusion defences share.
 *
 * <p>One sub-package per method: {@code diffpure} (DiffPure, DDPM or DDIM reverse chain; EXACT, SURROGATE, BPDA),
 * {@code diffender} (DIFFender: patch localisation, repainting, few-shot prompt tuning and the shipped tuned prompts;
 * BPDA, STE), {@code classic} (JPEG, median smoothing, bit depth, local gradient smoothing; BPDA), {@code maep} (the
 * masked-autoencoder purifier of seed 003; EXACT, BPDA), {@code disco} (a DISCO-style EDSR + local implicit function
 * purifier; EXACT, BPDA) and {@code learned}, what those two share (training on PGD pairs, model files, the purifier);
 * the patch baselines of DIFFender's Table 1: {@code dw} (Digital Watermarking; BPDA), {@code fnc} (feature norm
 * clipping; EXACT, BPDA), {@code sac} (a SAC-like trained patch segmenter with shape completion; BPDA, STE) and
 * {@code jedi} (local entropy, morphology, Telea; BPDA).
 */
package org.lustra.defense;
