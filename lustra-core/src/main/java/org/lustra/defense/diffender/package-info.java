/**
 * DIFFender (SPEC §4): patch localisation from the Adversarial Anomaly Perception of one text-guided diffusion model
 * ({@link org.lustra.defense.diffender.PatchLocalizer}), restoration by inpainting with the same model, and the prompts
 * that steer both ({@link org.lustra.defense.diffender.Prompt}).
 */
package org.lustra.defense.diffender;
