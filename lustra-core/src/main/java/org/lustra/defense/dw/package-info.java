/**
 * Digital Watermarking (Hayes, 2018), a baseline of DIFFender's Table 1: the protected classifier's saliency map,
 * thresholded and cleaned by morphology, locates a visible patch, which is then inpainted — by Telea's fast marching
 * ({@link org.lustra.defense.classic.TeleaInpainting}, the default) or by the shipped diffusion model. Attacked with
 * BPDA.
 */
package org.lustra.defense.dw;
