/**
 * MAEP, the masked autoencoder purifier (seed 003, "non-diffusion purifiers", SPEC §6): a ViT masked autoencoder with
 * patch 2 trained on PGD examples toward their clean images, ℓ1 purification loss on the visible patches plus ℓ1
 * reconstruction loss on the hidden ones (mask ratio 0.5), applied at test in one unmasked pass.
 */
package org.lustra.defense.maep;
