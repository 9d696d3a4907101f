/**
 * Defences by test-time input purification, and how an attack's gradient passes them. A {@link Purifier} maps images
 * in [0, 1] to purified images, seeded so that a call replays exactly; a {@link DefendedClassifier} is classifier ∘
 * purifier, and its logits and loss gradients always name a {@link GradientMode} (EXACT, SURROGATE, BPDA, STE,
 * MASKED). Capabilities widen the modes a purifier offers: a {@link RecomputablePurifier} gives exact gradients through a
 * long chain by recomputing it step by step with replayed noise (and a coarse surrogate); a {@link ThresholdedPurifier}
 * passes its hard thresholds straight through ({@link Ste}); a {@link DetectingPurifier} opens its detector to an
 * attacker (soft and hard detection, for evade-then-fool attacks) and offers MASKED, exact outside the replaced region.
 * A {@link MaskingPurifier} can say which region it replaced (masks and anomaly maps for the CLI); {@link MaskScores}
 * scores such masks against true ones, the one implementation every mask measurement uses. "No defence" is the
 * {@link Identity} purifier, never {@code null}. A {@link FeatureDefense} acts inside the network rather than on its
 * input (FNC): it turns a classifier into a defended one.
 *
 * <p>A {@link DefenseSpec} is a defence spec string (jpeg:75, diffpure:0.1:ddim10, diffender:ep:rec, ...) parsed once
 * into a value; a {@link DefenseFactory} builds its purifier and owns the diffusion model the diffusion defences share.
 *
 * <p>One sub-package per method, with the gradient modes each offers: {@code diffpure} (DiffPure, DDPM or DDIM reverse
 * chain; EXACT, SURROGATE, BPDA), {@code hetero} (the heterogeneous-noise purifier of seed 002: attention mask,
 * two-stage denoising, single-step resampling, ensembles; EXACT, SURROGATE, BPDA), {@code diffender} (DIFFender: patch
 * localisation, repainting, few-shot prompt tuning and tuned prompts made by {@code lustra tune-prompts}; BPDA, STE,
 * MASKED), {@code classic} (JPEG, bit depth and local gradient smoothing: BPDA; median smoothing: EXACT, BPDA),
 * {@code maep} (the masked-autoencoder purifier of seed 003) and {@code disco} (a DISCO-style EDSR + local implicit
 * function purifier), both EXACT, STE (the output clamp straight through), BPDA, with {@code learned}, what those two
 * share (training on PGD pairs, model files, the purifier); the patch baselines of DIFFender's Table 1: {@code dw}
 * (Digital Watermarking; BPDA), {@code fnc} (feature norm clipping; EXACT, BPDA), {@code sac} (a SAC-like trained
 * patch segmenter with shape completion; BPDA, STE, MASKED) and {@code jedi} (local entropy, an autoencoder — or
 * morphology — that turns kernel centres into a mask, Telea; BPDA, MASKED).
 */
package org.lustra.defense;
