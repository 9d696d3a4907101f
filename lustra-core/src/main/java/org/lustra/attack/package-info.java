/** Attacks: PGD ℓ∞/ℓ2 and FGSM so far (step 3 adds APGD, AutoAttack, Square, FAB-T and the patch attacks). */
package org.lustra.attack;
