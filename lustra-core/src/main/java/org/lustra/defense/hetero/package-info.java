/**
 * Heterogeneous-noise purification (Pei et al., "Divide and Conquer: Heterogeneous Noise Integration for
 * Diffusion-based Adversarial Purification", CVPR 2025; SPEC §5). The protected classifier's {@link
 * org.lustra.defense.hetero.AttentionMask} marks where the input gets strong noise (t_l) and where weak (t_s); the
 * {@link org.lustra.defense.hetero.HeteroPurifier} denoises in two stages — RePaint-style inpainting of the masked
 * region while t ≥ t_s, plain denoising below — with single-step (the seed's) or multi-step RePaint resampling, and
 * offers EXACT (recomputation with replayed noise), SURROGATE (coarse grid) and BPDA gradients with the mask detached.
 * {@link org.lustra.defense.hetero.HeteroOptions} are built with a builder; their defaults were chosen on validation
 * data (docs/results/calibration/hetero-stride10-diffusion-unified-classifier-resnet.md). An {@link
 * org.lustra.defense.hetero.Ensemble} of S purifications (one batch) predicts by mean probability or majority vote.
 */
package org.lustra.defense.hetero;
