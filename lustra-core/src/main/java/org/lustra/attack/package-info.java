/**
 * Attacks on a classifier, with or without a defence in front of it. Every attack sees its target through an
 * {@link AttackModel}: images in [0, 1] to logits, differentiable in the way the caller chose (the caller records the
 * gradient mode), with EOT copies evaluated as one batch, or a {@link AttackModel.GradientOracle} that computes its own
 * loss gradient (recomputed purification chains). Attacks are batched and seeded, keep their state in Java arrays and
 * return an {@link AttackResult} (or, for patches, a {@link Patch.Result} with the true patch mask).
 *
 * <p>ℓ∞ / ℓ2 attacks ({@link Norm}): {@link Pgd} (and FGSM as one step), {@link Apgd} (APGD-CE, APGD-DLR, APGD-T),
 * {@link FabT}, the black-box {@link Square}, and {@link AutoAttack} (standard and rand versions, with its checks for
 * gradient masking). Patch attacks: the universal {@link AdvPatch}, the per-image {@link LaVan}, {@link GdpaLike}
 * (content and position optimised), the black-box {@link RhdeLike} (a natural sticker placed by differential
 * evolution) and the detector-aware {@link EvadeLaVan} (evade-then-fool: keeps a detect-then-replace defence's soft
 * detection low while fooling the classifier, exact through the detector via a {@link DetectorView}).
 *
 * <p>Against a randomised target a success counts only when {@link Votes} — the same rule as the harness's
 * majority-of-K score — confirms it, and the iterative attacks never stop at a first success under one draw: PGD, APGD,
 * LaVAN and GDPA-like run to full length and return the iterate with the best EOT objective ({@link BestIterates});
 * the black-box Square and RHDE-like spend their whole query budget and keep their own best candidate, scored on single
 * forwards. A gradient row with a non-finite value is zeroed and counted ({@link GradientCounts}; exactly-zero rows are
 * counted too), so a report can flag a broken or cut gradient instead of printing a number.
 *
 * <p>An {@link Attack} is one configured attack as a value ({@link Attacks} has one per algorithm): it runs on an
 * {@link AttackModel} with a seed and describes its own budget and iterations. Which settings an experiment profile
 * uses is the evaluation harness's registry's business, not this package's.
 */
package org.lustra.attack;
