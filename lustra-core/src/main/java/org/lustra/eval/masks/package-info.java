/**
 * Mask quality of masking defences against the true patch masks of the harness's patch attacks
 * ({@link org.lustra.eval.masks.PatchedImages}): IoU, precision, recall and the false-positive pixel rate on clean
 * images ({@link org.lustra.defense.MaskScores}), per defence and attack ({@link org.lustra.eval.masks.MaskQuality},
 * {@code lustra eval masks}).
 */
package org.lustra.eval.masks;
