/**
 * Defences by test-time input purification, and how an attack's gradient passes them. A {@link Purifier} maps images
 * in [0, 1] to purified images, seeded so that a call replays exactly; a {@link DefendedClassifier} is classifier ∘
 * purifier, and its logits and loss gradients always name a {@link GradientMode} (EXACT, SURROGATE, BPDA, STE).
 * Two capabilities widen the modes a purifier offers: a {@link RecomputablePurifier} gives exact gradients through a
 * long chain by recomputing it step by step with replayed noise (and a coarse surrogate), and a
 * {@link ThresholdedPurifier} passes its hard thresholds straight through ({@link Ste}).
 *
 * <p>One sub-package per method: {@code diffpure} (DiffPure, DDPM or DDIM reverse chain; EXACT, SURROGATE, BPDA),
 * {@code diffender} (DIFFender: patch localisation, repainting, few-shot prompt tuning and the shipped tuned prompts;
 * BPDA, STE) and {@code classic} (JPEG, median smoothing, bit depth, local gradient smoothing; BPDA).
 */
package org.lustra.defense;
