/**
 * Classic input transformations (JPEG, median smoothing, bit depth, local gradient smoothing): deterministic, passed by
 * BPDA when attacked. Also the classic image-processing pieces other patch defences build on: binary
 * {@link org.lustra.defense.classic.Morphology} and Telea's fast-marching inpainting
 * ({@link org.lustra.defense.classic.TeleaInpainting}).
 */
package org.lustra.defense.classic;
