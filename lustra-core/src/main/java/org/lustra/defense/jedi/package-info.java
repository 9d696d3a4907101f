/**
 * Jedi (Tarchoun et al., 2023), a baseline of DIFFender's Table 1: windows of high local entropy
 * ({@link org.lustra.defense.jedi.EntropyMap}) locate a patch, a mask autoencoder
 * ({@link org.lustra.defense.jedi.JediAutoencoder}, trained by {@link org.lustra.defense.jedi.JediTraining} on
 * synthetic kernel maps) completes them into a patch-shaped mask — or fixed morphology, the ablation and the fallback
 * while no autoencoder is trained — and Telea inpainting removes it ({@link org.lustra.defense.jedi.Jedi}).
 * Deterministic; attacked with BPDA, and through its detector: {@link org.lustra.defense.jedi.SoftEntropy}, a
 * soft-binned entropy, gives the kernel threshold a derivative (Jedi is a
 * {@link org.lustra.defense.DetectingPurifier}).
 */
package org.lustra.defense.jedi;
