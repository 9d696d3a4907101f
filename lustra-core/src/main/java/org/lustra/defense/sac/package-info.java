/**
 * A SAC-like patch defence (Liu et al., 2022, "Segment and Complete"), a baseline of DIFFender's Table 1: a small
 * U-Net {@link org.lustra.defense.sac.PatchSegmenter} trained ({@link org.lustra.defense.sac.SacTraining}) on
 * data/validation images with pasted noise, natural crops and LaVAN patches ({@link
 * org.lustra.defense.sac.TrainingPatches}, {@link org.lustra.defense.sac.PatchBank}); its thresholded mask completed
 * to the expected squares ({@link org.lustra.defense.sac.ShapeCompletion}) and removed by Telea inpainting or zeros
 * ({@link org.lustra.defense.sac.SegmentAndComplete}). Attacked with BPDA, or through the segmenter with STE at the
 * threshold.
 */
package org.lustra.defense.sac;
