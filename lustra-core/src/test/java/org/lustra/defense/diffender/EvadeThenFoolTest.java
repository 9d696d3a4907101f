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
import org.junit.jupiter.api.Test;
import org.lustra.attack.AttackModel;
import org.lustra.attack.DetectorView;
import org.lustra.attack.EvadeLaVan;
import org.lustra.attack.LaVan;
import org.lustra.attack.Patch;
import org.lustra.diffusion.DiffusionModel;

/**
 * Evade-then-fool (issue 11, 3b) against DIFFender on the tiny random diffusion model and a linear classifier: the
 * patch it leaves is detected less by the localiser's soft mask than plain LaVAN's at the same places, and its
 * images are finite and differ from the clean ones only inside the patch.
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

    @Test
    void givenTinyDiffender_whenEvadeThenFoolRuns_thenItsPatchIsSoftDetectedLessThanPlainLavans() {
        int n = 3;
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            Diffender d = DiffenderAttackSurfaceTest.tinyDiffender(model);
            Function<NDArray, NDArray> cls = linear(m);
            NDArray xa = DiffenderTest.images(m, n, 3);
            float[] x = xa.toFloatArray();
            float[] z = cls.apply(xa).toFloatArray();
            int[] y = new int[n];
            for (int i = 0; i < n; i++) {
                y[i] = AttackModel.argMax(z, i, 3);
            }
            Patch.Result lavan = LaVan.attack(new AttackModel(cls, m, IMAGE, 1), x, y, new LaVan.Options(FRACTION, 20,
                    0.05, 3));
            AtomicLong seeds = new AtomicLong(100);
            DetectorView view = new DetectorView() {
                public NDArray classifierLogits(NDArray rows) {
                    return cls.apply(rows);
                }

                public NDArray softDetection(NDArray rows) {
                    return d.softDetection(rows, seeds.incrementAndGet());
                }

                public NDArray detection(NDArray rows) {
                    return d.detection(rows, seeds.incrementAndGet());
                }
            };
            AttackModel target = new AttackModel(rows -> cls.apply(d.purify(rows, seeds.incrementAndGet())), null, m,
                    IMAGE, 2, true, 3).withDetector(view);
            // any covered pixel counts as detected and the margin cap is low, so λ grows and evasion soon pays more
            // than fooling: on the random tiny localiser a LaVAN patch is only partly flagged
            EvadeLaVan.Options opt = new EvadeLaVan.Options(FRACTION, 20, 0.05, List.of(EvadeLaVan.Start.RANDOM,
                    EvadeLaVan.Start.NATURAL, EvadeLaVan.Start.NON_ADAPTIVE), 2.0, 2.0, 5, 0.0, 0.5, 3);
            long t0 = System.nanoTime();
            Patch.Result evade = EvadeLaVan.attack(target, x, y, null, opt);
            System.err.printf("evade-then-fool on the tiny model: %.1f s%n", (System.nanoTime() - t0) / 1e9);
            assertArrayEquals(lavan.masks(), evade.masks(), "LaVAN's places");
            for (int j = 0; j < x.length; j++) {
                float v = evade.adversarial()[j];
                assertTrue(Float.isFinite(v) && v >= 0f && v <= 1f, "pixel " + j + " = " + v);
                if (evade.masks()[j] == 0f) {
                    assertEquals(x[j], v, "pixel " + j + " outside the patch");
                }
            }
            assertEquals(0, target.nonFiniteGradientRows(), "no non-finite gradient through the tiny localiser");
            double plain = softInside(d, m, lavan, n, 4);
            double evaded = softInside(d, m, evade, n, 4);
            assertTrue(evaded < 0.9 * plain, "soft detection inside the patch: evade-then-fool " + evaded
                    + " vs plain LaVAN " + plain);
        }
    }
}
