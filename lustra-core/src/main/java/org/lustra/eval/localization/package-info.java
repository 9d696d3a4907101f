/**
 * How well a patch localiser finds patches (SPEC §4.1, issue 11 item 1): patched images with their true masks
 * ({@link org.lustra.eval.masks.PatchedImages#makeSet}: the project's patch attacks, or quick synthetic patches), a sweep
 * of DIFFender's localisation over signal × ᾱ × θ scoring the raw and the refined mask by IoU, precision and recall
 * ({@link org.lustra.eval.localization.LocalizationSweep}), and its JSON + Markdown report.
 */
package org.lustra.eval.localization;
