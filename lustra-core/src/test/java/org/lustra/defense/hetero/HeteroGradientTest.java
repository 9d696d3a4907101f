package org.lustra.defense.hetero;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.GradientMode;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.model.NetClassifier;

/**
 * Gradient routes of the hetero purifier on a tiny random UNet: EXACT by recomputation equals plain autograd through
 * the chain and central finite differences (float32, so the tolerance is the one GradientModesTest uses for DiffPure:
 * a gradient that misses a path — the known region's noising, the inpainting channels, a resampling step — is off by
 * far more); SURROGATE is EXACT of the coarse purifier.
 */
class HeteroGradientTest {

    private static final List<HeteroOptions> CHAINS = List.of(
            TinyHetero.small().optResampling(HeteroOptions.Resampling.SINGLE, 2)
                    .optConditioning(HeteroOptions.Conditioning.INPAINT).build(),
            TinyHetero.small().optSolver(HeteroOptions.Solver.DDPM).optStride(1)
                    .optResampling(HeteroOptions.Resampling.MULTI, 1).build());

    /** A fixed random cotangent w: the loss is Σ w ⊙ purify(x). */
    private static float[] weights(int n) {
        SplittableRandom r = new SplittableRandom(17);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return w;
    }

    private static double loss(HeteroPurifier p, NDManager m, float[] x, NDArray mask, float[] w, long seed) {
        try (NDManager s = m.newSubManager()) {
            Shape shape = new Shape(x.length / 64, 1, 8, 8);
            return p.purify(s.create(x, shape), mask, seed).mul(s.create(w, shape)).sum().getFloat();
        }
    }

    @Test
    void givenAFixedMask_whenTheExactGradientIsRecomputed_thenItMatchesFiniteDifferences() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = TinyHetero.model(base)) {
            NDArray x = base.randomUniform(0.2f, 0.8f, new Shape(2, 1, 8, 8));
            NDArray mask = TinyHetero.mixedMask(base, 2);
            float[] w = weights(128);
            for (HeteroOptions o : CHAINS) {
                HeteroPurifier p = new HeteroPurifier(model, null, o);
                float[] grad;
                try (HeteroPurifier.Trace t = p.record(x, mask, 5)) {
                    grad = finite(t.pullback(base.create(w, x.getShape())).toFloatArray(), p.name());
                }
                float[] xv = x.toFloatArray();
                double h = 1e-3;
                // inside M (0, 9 on the diagonal), outside M (6, 64 + 47), both images
                for (int j : new int[] {0, 6, 9, 64 + 47}) {
                    float[] plus = xv.clone();
                    float[] minus = xv.clone();
                    plus[j] += (float) h;
                    minus[j] -= (float) h;
                    double fd = (loss(p, base, plus, mask, w, 5) - loss(p, base, minus, mask, w, 5)) / (2 * h);
                    assertEquals(fd, grad[j], 2e-3 + 0.05 * Math.abs(fd), p.name() + " pixel " + j);
                }
            }
        }
    }

    @Test
    void givenAFixedMask_whenTheExactGradientIsRecomputed_thenItEqualsAutogradThroughTheWholeChain() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = TinyHetero.model(base)) {
            NDArray x = base.randomUniform(0.2f, 0.8f, new Shape(2, 1, 8, 8));
            NDArray mask = TinyHetero.mixedMask(base, 2);
            NDArray w = base.create(weights(128), x.getShape());
            for (HeteroOptions o : CHAINS) {
                HeteroPurifier p = new HeteroPurifier(model, null, o);
                float[] recomputed;
                try (HeteroPurifier.Trace t = p.record(x, mask, 9)) {
                    recomputed = finite(t.pullback(w).toFloatArray(), p.name());
                }
                float[] autograd = autograd(x, leaf -> p.purify(leaf, mask, 9).mul(w).sum());
                assertArrayEquals(autograd, recomputed, 1e-4f, p.name());
                assertTrue(maxAbs(recomputed) > 0.05, p.name() + ": a gradient, not zeros");
            }
        }
    }

    @Test
    void givenTheClassifierMask_whenLossGradientIsExact_thenItEqualsAutogradWithTheMaskDetached() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = TinyHetero.model(base);
                NetClassifier c = TinyHetero.resnet(base, 1)) {
            NDArray x = base.randomUniform(0.2f, 0.8f, new Shape(2, 1, 8, 8));
            HeteroPurifier p = new HeteroPurifier(model, c, CHAINS.get(0).toBuilder()
                    .optMask(AttentionMask.Options.defaults().withTopFraction(0.3)).build());
            Function<NDArray, NDArray> rowLoss = z -> z.get(":, 0").sub(z.get(":, 2"));
            DefendedClassifier d = new DefendedClassifier(p, c);
            int before = base.getManagedArrays().size();
            DefendedClassifier.LossGradient lg = d.lossGradient(x, GradientMode.EXACT, 3, rowLoss);
            float[] recomputed = finite(lg.gradient().toFloatArray(), "recomputed");
            lg.loss().close();
            lg.logits().close();
            lg.gradient().close();
            assertEquals(before, base.getManagedArrays().size(), "nothing left behind");
            float[] autograd = autograd(x, leaf -> rowLoss.apply(d.logits(leaf, GradientMode.EXACT, 3)).sum());
            assertArrayEquals(autograd, recomputed, 1e-4f);
        }
    }

    @Test
    void givenSurrogateMode_whenTheLossGradientIsTaken_thenItIsExactThroughTheCoarsePurifier() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = TinyHetero.model(base);
                NetClassifier c = TinyHetero.resnet(base, 1)) {
            NDArray x = base.randomUniform(0.2f, 0.8f, new Shape(1, 1, 8, 8));
            HeteroPurifier p = new HeteroPurifier(model, c, CHAINS.get(1).toBuilder().optSurrogateSteps(4).build());
            HeteroPurifier coarse = p.surrogate();
            assertEquals(5, coarse.options().stride(), "ceil(t_l = 20 / 4 steps)");
            assertEquals(HeteroOptions.Solver.DDIM, coarse.options().solver());
            Function<NDArray, NDArray> rowLoss = z -> z.get(":, 1");
            long c0 = model.unetCallsSoFar();
            float[] s = finite(new DefendedClassifier(p, c).lossGradient(x, GradientMode.SURROGATE, 4, rowLoss)
                    .gradient().toFloatArray(), "surrogate");
            long c1 = model.unetCallsSoFar();
            float[] e = new DefendedClassifier(coarse, c).lossGradient(x, GradientMode.EXACT, 4, rowLoss).gradient()
                    .toFloatArray();
            long c2 = model.unetCallsSoFar();
            new DefendedClassifier(p, c).lossGradient(x, GradientMode.EXACT, 4, rowLoss).gradient().close();
            long c3 = model.unetCallsSoFar();
            assertArrayEquals(e, s, 0f);
            assertTrue(maxAbs(s) > 0, "a non-zero gradient");
            // The arrays would also agree if SURROGATE ran the full chain: count the UNet calls of each route.
            assertEquals(c2 - c1, c1 - c0, "SURROGATE runs the coarse chain's UNet calls");
            assertTrue(c1 - c0 < c3 - c2, "fewer UNet calls than the full chain: " + (c1 - c0) + " vs " + (c3 - c2));
        }
    }

    /** d(f(x))/dx by one autograd graph, at a copy of x. */
    private static float[] autograd(NDArray x, Function<NDArray, NDArray> f) {
        try (NDManager s = x.getManager().newSubManager()) {
            NDArray leaf = x.duplicate();
            leaf.attach(s);
            leaf.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(f.apply(leaf));
            }
            return leaf.getGradient().toFloatArray();
        }
    }

    /** JUnit's array equality counts NaN = NaN as equal: a NaN gradient must fail on its own. */
    private static float[] finite(float[] v, String what) {
        for (int i = 0; i < v.length; i++) {
            assertTrue(Float.isFinite(v[i]), what + ": non-finite gradient at " + i);
        }
        return v;
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float f : v) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }
}
