/**
 * A DISCO-style purifier (Ho and Vasconcelos, "DISCO: adversarial defense with local implicit functions", NeurIPS
 * 2022), the seed-003 study's main non-diffusion baseline: an EDSR-like encoder and a per-pixel local implicit
 * function, trained with ℓ1 to the clean image on PGD pairs.
 */
package org.lustra.defense.disco;
