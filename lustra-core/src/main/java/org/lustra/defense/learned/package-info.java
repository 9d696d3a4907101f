/**
 * What the trained purifier networks share: a {@link org.lustra.defense.learned.PurifierNetwork} maps adversarial
 * images to clean ones; {@link org.lustra.defense.learned.PairTraining} trains it on (PGD example, clean image) pairs
 * made on the fly against the protected classifier ({@link org.lustra.defense.learned.AdversarialPairs}), resumable
 * and seeded per step; {@link org.lustra.defense.learned.LearnedModels} saves and loads it with a model card; and
 * {@link org.lustra.defense.learned.LearnedPurifier} is the defence — one deterministic, differentiable pass, so
 * adaptive attacks get EXACT gradients by plain backpropagation. {@link org.lustra.defense.learned.MaskTraining} is
 * the same resumable loop for networks that output a patch mask ({@link org.lustra.defense.learned.MaskNetwork}: SAC's
 * segmenter, Jedi's autoencoder).
 */
package org.lustra.defense.learned;
