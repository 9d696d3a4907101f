package org.lustra.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Patch attacks on 1×8×8 images against linear "quadrant" models (class q's logit is the sum of quadrant q's
 * pixels), where what a 3×3 patch can do is easy to reason about.
 */
class PatchAttacksTest {
    static final Shape IMAGE = new Shape(1, 8, 8);
    static final int D = 64;
    static final double FRACTION = 9.0 / 64; // a 3×3 patch

    static int quadrant(int p) {
        return (p / 8 >= 4 ? 2 : 0) + (p % 8 >= 4 ? 1 : 0);
    }

    /** logits = x·Q (+ bias), Q[p][q] = weight of pixel p for class q. */
    static Function<NDArray, NDArray> linear(NDManager m, float[] q, int k, float[] bias) {
        NDArray wq = m.create(q, new Shape(D, k));
        NDArray b = m.create(bias, new Shape(1, k));
        return x -> x.reshape(x.getShape().get(0), D).matMul(wq).add(b);
    }

    static Function<NDArray, NDArray> quadrants(NDManager m) {
        float[] q = new float[D * 4];
        for (int p = 0; p < D; p++) {
            q[p * 4 + quadrant(p)] = 1f;
        }
        return linear(m, q, 4, new float[4]);
    }

    /** Image i of class i % 4: its quadrant at {@code level}, the rest black. */
    static float[] quadrantImages(int n, float level) {
        float[] x = new float[n * D];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < D; p++) {
                x[i * D + p] = quadrant(p) == i % 4 ? level : 0f;
            }
        }
        return x;
    }

    static int[] labels(int n) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 4;
        }
        return y;
    }

    static void assertOnlyMaskChanged(Patch.Result r, float[] x, int n, int side) {
        for (int i = 0; i < n; i++) {
            int area = 0;
            for (int p = 0; p < D; p++) {
                boolean in = r.masks()[i * D + p] > 0;
                area += in ? 1 : 0;
                if (!in) {
                    assertEquals(x[i * D + p], r.adversarial()[i * D + p], "pixel " + p + " of image " + i
                            + " outside the patch changed");
                }
                assertTrue(r.adversarial()[i * D + p] >= 0 && r.adversarial()[i * D + p] <= 1);
            }
            assertEquals(side * side, area, "mask area of image " + i);
        }
    }

    @Test
    void sideFollowsTheAreaFraction() {
        assertEquals(6, Patch.side(0.05, 28, 28));
        assertEquals(3, Patch.side(FRACTION, 8, 8));
        assertThrows(IllegalArgumentException.class, () -> Patch.side(0, 28, 28));
    }

    @Test
    void lavanOptimisesThePatchPixelsOnlyAndFools() {
        int n = 16;
        float[] x = quadrantImages(n, 0.3f);
        int[] y = labels(n);
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel model = new AttackModel(quadrants(m), m, IMAGE, 1);
            LaVan.Options opt = new LaVan.Options(FRACTION, 40, 0.1, 3);
            Patch.Result r = LaVan.attack(model, x, y, opt);
            assertOnlyMaskChanged(r, x, n, 3);
            // 3×3 at ≤ 1 in another quadrant beats the 16 × 0.3 = 4.8 of the true one whenever ≥ 5 of its pixels
            // lie outside the true quadrant, which holds for most placements
            assertTrue(r.robustAccuracy() <= 0.5, "robust " + r.robustAccuracy());
            assertArrayEquals(r.adversarial(), LaVan.attack(model, x, y, opt).adversarial(), "seeded");
        }
    }

    /** Only the bottom-right quadrant matters: a fixed patch elsewhere is powerless, a moving one finds it. */
    @Test
    void gdpaMovesThePatchToWhereItMattersWhileAFixedPatchCannot() {
        int n = 12;
        float[] x = new float[n * D];
        int[] y = new int[n]; // all class 0: z0 = 1, z1 = sum of the bottom-right quadrant (all black)
        float[] q = new float[D * 2];
        for (int p = 0; p < D; p++) {
            q[p * 2 + 1] = quadrant(p) == 3 ? 1f : 0f;
        }
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel model = new AttackModel(linear(m, q, 2, new float[] {1f, 0f}), m, IMAGE, 1);
            Patch.Result lavan = LaVan.attack(model, x, y, new LaVan.Options(FRACTION, 30, 0.1, 5));
            int elsewhere = 0;
            for (int i = 0; i < n; i++) {
                boolean touches = false;
                for (int p = 0; p < D; p++) {
                    touches |= lavan.masks()[i * D + p] > 0 && quadrant(p) == 3;
                }
                if (!touches) {
                    elsewhere++;
                    assertTrue(!lavan.fooled()[i], "a patch outside the sensitive quadrant cannot fool");
                }
            }
            assertTrue(elsewhere > 0, "some fixed patches lie outside the quadrant, or the check above is empty");
            Patch.Result gdpa = GdpaLike.attack(model, x, y, new GdpaLike.Options(FRACTION, 30, 0.1, 3, 3, 5));
            assertOnlyMaskChanged(gdpa, x, n, 3);
            assertEquals(0.0, gdpa.robustAccuracy(), "every image fooled once the patch has moved");
        }
    }

    @Test
    void advPatchLearnedOnTrainingImagesBeatsARandomPatchOnTestImages() {
        float[] train = quadrantImages(64, 0.3f);
        float[] test = quadrantImages(40, 0.3f);
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel model = new AttackModel(quadrants(m), m, IMAGE, 1);
            AdvPatch.Options opt = new AdvPatch.Options(FRACTION, 30, 16, 0.1, 9);
            float[] patch = AdvPatch.train(model, train, labels(64), opt);
            assertEquals(9, patch.length);
            Patch.Result adv = AdvPatch.apply(model, patch, test, labels(40), FRACTION, 11);
            assertOnlyMaskChanged(adv, test, 40, 3);
            float[] noise = new float[9];
            java.util.SplittableRandom r = new java.util.SplittableRandom(1);
            for (int j = 0; j < 9; j++) {
                noise[j] = (float) r.nextDouble();
            }
            Patch.Result rnd = AdvPatch.apply(model, noise, test, labels(40), FRACTION, 11);
            assertTrue(adv.robustAccuracy() < rnd.robustAccuracy(), "universal " + adv.robustAccuracy()
                    + " vs random patch " + rnd.robustAccuracy());
            assertArrayEquals(patch, AdvPatch.train(model, train, labels(64), opt), "seeded");
        }
    }

    @Test
    void targetedAdvPatchPullsImagesToItsTargetAndTrainBestKeepsTheStrongestTarget() {
        float[] train = quadrantImages(64, 0.3f);
        float[] test = quadrantImages(40, 0.3f);
        try (NDManager m = NDManager.newBaseManager()) {
            // classes 0–3: quadrant sums; class 4 "bright": total sum − 2. A bright patch anywhere but wholly inside
            // the true quadrant makes class 4 win, so only a patch targeted at 4 can pull every image to its target.
            float[] q = new float[D * 5];
            for (int p = 0; p < D; p++) {
                q[p * 5 + quadrant(p)] = 1f;
                q[p * 5 + 4] = 1f;
            }
            AttackModel model = new AttackModel(linear(m, q, 5, new float[] {0, 0, 0, 0, -2}), m, IMAGE, 1);
            int target = 4;
            float[] patch = AdvPatch.train(model, train, labels(64), new AdvPatch.Options(FRACTION, 30, 16, 0.1, 9,
                    target));
            Patch.Result adv = AdvPatch.apply(model, patch, test, labels(40), FRACTION, 11);
            assertOnlyMaskChanged(adv, test, 40, 3);
            float[] logits = model.logits(adv.adversarial(), 40);
            int fooled = 0;
            int toTarget = 0;
            for (int i = 0; i < 40; i++) {
                if (adv.fooled()[i]) {
                    fooled++;
                    toTarget += LogitRows.argMax(logits, i, 5) == target ? 1 : 0;
                }
            }
            assertTrue(fooled >= 30, "the targeted patch fools most images: " + fooled + " of 40");
            assertEquals(fooled, toTarget, "every fooled image goes to the target class");

            AdvPatch.Trained best = AdvPatch.trainBest(model, train, labels(64), new AdvPatch.Options(FRACTION, 30,
                    16, 0.1, 9));
            assertEquals(5, best.foolRateByTarget().length);
            assertEquals(target, best.target(), "the bright class is the one a universal patch can reach");
            for (double r : best.foolRateByTarget()) {
                assertTrue(r <= best.heldOutFoolRate(), "kept the strongest target");
            }
            assertEquals(best.foolRateByTarget()[best.target()], best.heldOutFoolRate());
            assertTrue(best.heldOutFoolRate() > 0);
            assertThrows(IllegalArgumentException.class, () -> AdvPatch.train(model, train, labels(64),
                    new AdvPatch.Options(FRACTION, 3, 16, 0.1, 9, 5)), "class 5 does not exist");
        }
    }

    @Test
    void rhdeFindsAPlacementForANaturalStickerWithoutGradients() {
        int n = 12;
        float[] x = quadrantImages(n, 0.3f);
        int[] y = labels(n);
        float[] sources = quadrantImages(8, 1f);
        // make every source bright everywhere except a dark border, so its centre crop is a bright 3×3 sticker
        for (int i = 0; i < 8; i++) {
            for (int p = 0; p < D; p++) {
                sources[i * D + p] = (p / 8 == 0 || p % 8 == 0) ? 0f : 0.9f;
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Function<NDArray, NDArray> f = quadrants(m);
            // no gradients: the target is detached, so only logits reach the attack
            AttackModel model = new AttackModel(in -> f.apply(in.stopGradient()), m, IMAGE, 1);
            RhdeLike.Options opt = new RhdeLike.Options(FRACTION, 8, 20, 0.7, false, 2);
            Patch.Result r = RhdeLike.attack(model, x, y, sources, labels(8), opt);
            assertOnlyMaskChanged(r, x, n, 3);
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < D; p++) {
                    if (r.masks()[i * D + p] > 0) {
                        assertEquals(0.9f, r.adversarial()[i * D + p], "sticker pixels are the source's");
                    }
                }
            }
            // 9 × 0.9 = 8.1 inside another quadrant beats 4.8: placements exist for every image
            assertEquals(0.0, r.robustAccuracy());
            RhdeLike.Options scaled = new RhdeLike.Options(FRACTION, 8, 20, 0.7, true, 2);
            Patch.Result rs = RhdeLike.attack(model, x, y, sources, labels(8), scaled);
            assertArrayEquals(rs.adversarial(), RhdeLike.attack(model, x, y, sources, labels(8), scaled)
                    .adversarial(), "seeded");
        }
    }
}
