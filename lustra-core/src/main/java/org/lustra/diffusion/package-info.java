/**
 * Diffusion: the shared DDPM noise schedule, DDPM/DDIM/one-step samplers, classifier-free guidance and seeded noise.
 */
package org.lustra.diffusion;
