package org.lustra.defense.diffender;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.lustra.attack.AttackModel;
import org.lustra.attack.DetectorView;
import org.lustra.attack.EvadeLaVan;
import org.lustra.attack.LaVan;
import org.lustra.attack.LogitRows;
import org.lustra.attack.Patch;
import org.lustra.diffusion.DiffusionModel;

/**
 * Evade-then-fool (issue 11, 3b) against DIFFender on the tiny random diffusion model and a linear classifier: its
 * images are finite and differ from the clean ones only inside LaVAN's patch; whether it lowers the localiser's soft
 * detection here is an open finding (see the disabled test).
 */
class EvadeThenFoolTest {
    static final Shape IMAGE = new Shape(1, 8, 8);
    static final double FRACTION = 9.0 / 64; // 3×3

    static Function<NDArray, NDArray> linear(NDManager m) {
        NDArray w = m.create(DiffenderAttackSurfaceTest.random(64 * 3, 21), new Shape(64, 3));
        return x -> x.reshape(x.getShape().get(0), 64).matMul(w);
    }

    /** The mean over {@code draws} fresh localiser noises of the soft mask inside each patch. */
    static double softInside(Diffender d, NDManager m, Patch.Result r, int n, int draws) {
        double sum = 0;
        int count = 0;
        for (int s = 0; s < draws; s++) {
            float[] soft = d.softDetection(m.create(r.adversarial(), new Shape(n, 1, 8, 8)), 5000 + s).toFloatArray();
            for (int j = 0; j < soft.length; j++) {
                if (r.masks()[j] > 0) {
                    sum += soft[j];
                    count++;
                }
            }
        }
        return sum / count;
    }

    /** Plain LaVAN and evade-then-fool on the same 3 images, places and seed; [0] LaVAN, [1] evade. */
    private static Patch.Result[] bothAttacks(NDManager m, Diffender d, float[] x, int[] y,
            Function<NDArray, NDArray> cls) {
        Patch.Result lavan = LaVan.attack(new AttackModel(cls, m, IMAGE, 1), x, y, new LaVan.Options(FRACTION, 20,
                0.05, 3));
        AtomicLong seeds = new AtomicLong(100);
        DetectorView view = new DetectorView() {
            @Override
            public NDArray classifierLogits(NDArray rows) {
                return cls.apply(rows);
            }

            @Override
            public NDArray softDetection(NDArray rows) {
                return d.softDetection(rows, seeds.incrementAndGet());
            }

            @Override
            public NDArray detection(NDArray rows) {
                return d.detection(rows, seeds.incrementAndGet());
            }
        };
        AttackModel target = new AttackModel(rows -> cls.apply(d.purify(rows, seeds.incrementAndGet())), null, m,
                IMAGE, 2, true, 3).withDetector(view);
        // any covered pixel counts as detected and the margin cap is low, so λ grows and evasion soon pays more
        EvadeLaVan.Options opt = new EvadeLaVan.Options(FRACTION, 20, 0.05, List.of(EvadeLaVan.Start.RANDOM,
                EvadeLaVan.Start.NATURAL, EvadeLaVan.Start.NON_ADAPTIVE), 2.0, 2.0, 5, 0.0, 0.5, 3);
        Patch.Result evade = EvadeLaVan.attack(target, x, y, null, opt);
        assertEquals(0, target.nonFiniteGradientRows(), "no non-finite gradient through the tiny localiser");
        return new Patch.Result[] {lavan, evade};
    }

    private static int[] predicted(Function<NDArray, NDArray> cls, NDArray xa, int n) {
        float[] z = cls.apply(xa).toFloatArray();
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = LogitRows.argMax(z, i, 3);
        }
        return y;
    }

    @Test
    void givenTinyDiffender_whenEvadeThenFoolRuns_thenItsImagesAreFiniteAndChangeOnlyInsideLavansPatch() {
        int n = 3;
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            Diffender d = DiffenderAttackSurfaceTest.tinyDiffender(model);
            Function<NDArray, NDArray> cls = linear(m);
            NDArray xa = DiffenderTest.images(m, n, 3);
            float[] x = xa.toFloatArray();
            Patch.Result[] r = bothAttacks(m, d, x, predicted(cls, xa, n), cls);
            assertArrayEquals(r[0].masks(), r[1].masks(), "LaVAN's places");
            for (int j = 0; j < x.length; j++) {
                float v = r[1].adversarial()[j];
                assertTrue(Float.isFinite(v) && v >= 0f && v <= 1f, "pixel " + j + " = " + v);
                if (r[1].masks()[j] == 0f) {
                    assertEquals(x[j], v, "pixel " + j + " outside the patch");
                }
            }
        }
    }

    @Test
    @Disabled("Finding (1 December): on the tiny random localiser evade-then-fool did not lower the soft detection "
            + "measured at fresh noise (0.380-0.391 vs plain LaVAN 0.392, also with lambda 20, lr 0.1, 40 steps); "
            + "the synthetic-detector test in attack.EvadeLaVanTest does show it. Root not found yet: check whether "
            + "the random tiny UNet's z-scored map depends on the patch content at all (D at the attack's own seeds "
            + "per step) before re-enabling")
    void givenTinyDiffender_whenEvadeThenFoolRuns_thenItsPatchIsSoftDetectedLessThanPlainLavans() {
        int n = 3;
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            Diffender d = DiffenderAttackSurfaceTest.tinyDiffender(model);
            Function<NDArray, NDArray> cls = linear(m);
            NDArray xa = DiffenderTest.images(m, n, 3);
            Patch.Result[] r = bothAttacks(m, d, xa.toFloatArray(), predicted(cls, xa, n), cls);
            double plain = softInside(d, m, r[0], n, 4);
            double evaded = softInside(d, m, r[1], n, 4);
            assertTrue(evaded < 0.9 * plain, "soft detection inside the patch: evade-then-fool " + evaded
                    + " vs plain LaVAN " + plain);
        }
    }
}
