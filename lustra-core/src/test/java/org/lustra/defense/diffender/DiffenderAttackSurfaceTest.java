package org.lustra.defense.diffender;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Ste;
import org.lustra.diffusion.DiffusionModel;

/**
 * What DIFFender opens to an attacker who knows it (issue 11, 3b and 3c), on a tiny random diffusion model: the soft
 * detection's gradient is the true one, the hard detection is the mask purification repaints, and the MASKED surrogate
 * has the same output as the pipeline but, unlike the seed's STE, no identity term inside the mask.
 */
class DiffenderAttackSurfaceTest {

    static Diffender tinyDiffender(DiffusionModel model) {
        return new Diffender(model, DiffenderTest.fast(Prompt.text("a photo of a alpha with a patch"),
                Prompt.text("a clean beta")));
    }

    static float[] random(int len, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[len];
        for (int i = 0; i < len; i++) {
            v[i] = (float) (2 * r.nextDouble() - 1);
        }
        return v;
    }

    /** d(Σ w·f(x))/dx at x, through autograd; f is called on a fresh leaf. */
    static float[] gradient(NDManager m, NDArray x, float[] w, Function<NDArray, NDArray> f) {
        try (NDManager s = m.newSubManager()) {
            NDArray leaf = x.duplicate();
            leaf.attach(s);
            leaf.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray out = f.apply(leaf);
                gc.backward(out.mul(s.create(w, out.getShape())).sum());
            }
            return leaf.getGradient().toFloatArray();
        }
    }

    static double weighted(NDArray out, float[] w) {
        float[] o = out.toFloatArray();
        double sum = 0;
        for (int i = 0; i < o.length; i++) {
            sum += (double) o[i] * w[i];
        }
        return sum;
    }

    @Test
    void givenATinyDiffender_whenTheSoftDetectionIsDifferentiated_thenItsGradientMatchesFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            Diffender d = tinyDiffender(model);
            NDArray x = DiffenderTest.images(m, 2, 3);
            float[] w = random(2 * 64, 5);
            float[] g = gradient(m, x, w, leaf -> d.softDetection(leaf, 11));
            for (int dir = 0; dir < 3; dir++) {
                float[] v = random(2 * 64, 100 + dir);
                double analytic = 0;
                for (int i = 0; i < v.length; i++) {
                    assertTrue(Float.isFinite(g[i]), "finite gradient");
                    analytic += (double) g[i] * v[i];
                }
                double h = 2e-3;
                NDArray dv = m.create(v, x.getShape());
                double up = weighted(d.softDetection(x.add(dv.mul((float) h)), 11), w);
                double down = weighted(d.softDetection(x.sub(dv.mul((float) h)), 11), w);
                double numeric = (up - down) / (2 * h);
                assertTrue(Math.abs(analytic) > 1e-3, "a gradient to follow: " + analytic);
                assertEquals(numeric, analytic, 0.03 * Math.abs(numeric) + 2e-3, "direction " + dir);
            }
        }
    }

    @Test
    void givenAZScoreMap_whenMadeSoftAtAHighTemperature_thenItsHalfLevelIsTheRefinedMask() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            PatchLocalizer loc = tinyDiffender(model).localizer(); // θ = 1
            float[] z = new float[64];
            for (int r = 3; r <= 4; r++) {
                for (int c = 3; c <= 5; c++) {
                    z[r * 8 + c] = 3f;
                }
            }
            z[8 * 7 + 1] = 2.5f; // an isolated pixel: the blur erases it
            NDArray zs = m.create(z, new Shape(1, 1, 8, 8));
            float[] soft = loc.softMask(zs, 1e3).toFloatArray();
            float[] hard = PatchLocalizer.refine(Ste.threshold(zs, 1f)).toFloatArray();
            for (int j = 0; j < 64; j++) {
                assertTrue(soft[j] >= 0f && soft[j] <= 1f, "in [0, 1]");
                assertEquals(hard[j], soft[j] > 0.5f ? 1f : 0f, "pixel " + j);
            }
            float[] gentle = loc.softMask(zs, 1.0).toFloatArray();
            assertTrue(gentle[0] > 0f && gentle[0] < 0.5f, "k = 1 leaves background soft, not zero: " + gentle[0]);
        }
    }

    @Test
    void givenASeed_whenTheHardDetectionIsAsked_thenItIsTheMaskThatPurificationRepaints() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            Diffender d = tinyDiffender(model);
            NDArray x = DiffenderTest.images(m, 3, 4);
            assertArrayEquals(d.purifyWithMasks(x, 7).localization().mask().toFloatArray(),
                    d.detection(x, 7).toFloatArray());
        }
    }

    @Test
    void givenAMaskedRegion_whenTheMaskedSurrogateIsDifferentiated_thenItMatchesThePipelineWithoutTheIdentityTerm() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m)) {
            Diffender d = tinyDiffender(model);
            assertTrue(d.gradientModes().contains(GradientMode.MASKED));
            NDArray x = DiffenderTest.images(m, 3, 2);
            float[] mask = d.detection(x, 7).toFloatArray();
            assertArrayEquals(d.purify(x, 7).toFloatArray(), d.purifyMaskedSurrogate(x, 7).toFloatArray(), 1e-6f,
                    "same output as the pipeline");
            float[] w = random(3 * 64, 9);
            float[] masked = gradient(m, x, w, leaf -> d.purifyMaskedSurrogate(leaf, 7));
            float[] ste = gradient(m, x, w, leaf -> d.purifyForAttack(leaf, 7));
            int inside = 0;
            for (int j = 0; j < w.length; j++) {
                assertTrue(Float.isFinite(masked[j]));
                // x·(1 − M) + [x + sg(R − x)]·M and x·(1 − M) + sg(R)·M share every mask term; they differ by the
                // identity the seed's STE adds for masked pixels, w·M, and by nothing else
                assertEquals(mask[j] * w[j], ste[j] - masked[j], 1e-5, "pixel " + j);
                inside += mask[j] > 0.5f ? 1 : 0;
            }
            assertTrue(inside > 0 && inside < w.length, "θ = 1 masks some pixels: " + inside);
        }
    }
}
