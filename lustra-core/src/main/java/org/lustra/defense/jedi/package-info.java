/**
 * Jedi (Tarchoun et al., 2023), a baseline of DIFFender's Table 1: windows of high local entropy
 * ({@link org.lustra.defense.jedi.EntropyMap}) locate a patch, morphology stands in for the paper's mask autoencoder,
 * and Telea inpainting removes it ({@link org.lustra.defense.jedi.Jedi}). Deterministic; attacked with BPDA.
 */
package org.lustra.defense.jedi;
