package org.lustra.defense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.lustra.attack.AttackModel;
import org.lustra.defense.classic.MedianSmoothing;
import org.lustra.defense.diffpure.DiffPure;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.model.Classifier;

/**
 * Every gradient mode on tiny models: EXACT by recomputation equals plain autograd through the chain and finite
 * differences; SURROGATE is EXACT of the coarse purifier; BPDA is the classifier's gradient at the purified point;
 * STE passes the gradient through a hard threshold.
 */
class GradientModesTest {

    /** A linear 3-class classifier on 1×8×8 images. */
    static Classifier linear(NDManager m) {
        float[] w = new float[64 * 3];
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextDouble() * 2 - 1);
        }
        NDArray weight = m.create(w, new Shape(64, 3));
        return new Classifier() {
            public String name() {
                return "linear";
            }

            public int channels() {
                return 1;
            }

            public int size() {
                return 8;
            }

            public List<String> classNames() {
                return List.of("a", "b", "c");
            }

            public Output forward(NDArray x) {
                return new Output(x.reshape(x.getShape().get(0), 64).matMul(weight), List.of());
            }

            public void close() {}
        };
    }

    static Function<NDArray, NDArray> ce(int[] labels) {
        return z -> {
            float[] oh = new float[labels.length * 3];
            for (int i = 0; i < labels.length; i++) {
                oh[i * 3 + labels[i]] = 1;
            }
            return z.logSoftmax(1).mul(z.getManager().create(oh, new Shape(labels.length, 3))).sum(new int[] {1})
                    .neg();
        };
    }

    /** Plain autograd through classifier(purify(x)): the whole chain in one graph. */
    static float[] autogradThrough(Purifier p, Classifier c, NDArray x, long seed, int[] labels) {
        try (NDManager s = x.getManager().newSubManager()) {
            NDArray leaf = x.duplicate();
            leaf.attach(s);
            leaf.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(ce(labels).apply(c.logits(p.purify(leaf, seed))).sum());
            }
            return leaf.getGradient().toFloatArray();
        }
    }

    static double loss(Purifier p, Classifier c, NDManager m, float[] x, long seed, int[] labels) {
        try (NDManager s = m.newSubManager()) {
            return ce(labels).apply(c.logits(p.purify(s.create(x, new Shape(labels.length, 1, 8, 8)), seed))).sum()
                    .getFloat();
        }
    }

    @Test
    void exactByRecomputationEqualsAutogradAndFiniteDifferences() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = DiffusionModel.create(DiffPureTest.TINY, base.newSubManager(), 2)) {
            Classifier c = linear(base);
            int[] labels = {0, 2};
            NDArray x = base.randomUniform(0.2f, 0.8f, new Shape(2, 1, 8, 8));
            for (DiffPure p : List.of(new DiffPure(model, DiffPure.Options.ddpm(0.01)),
                    new DiffPure(model, DiffPure.Options.ddim(0.05, 4)))) {
                try (DiffPure.Trace t = p.trace(x, 5)) {
                    assertArrayEquals(p.purify(x, 5).toFloatArray(), t.output().toFloatArray(), 1e-6f,
                            p.name() + ": the recorded forward is the purification");
                }
                DefendedClassifier d = new DefendedClassifier(p, c);
                int before = base.getManagedArrays().size();
                DefendedClassifier.LossGradient lg = d.lossGradient(x, GradientMode.EXACT, 5, ce(labels));
                float[] recomputed = lg.gradient().toFloatArray();
                float[] plain = autogradThrough(p, c, x, 5, labels);
                assertArrayEquals(plain, recomputed, 1e-4f, p.name() + ": recompute = autograd");
                lg.loss().close();
                lg.logits().close();
                lg.gradient().close();
                assertEquals(before, base.getManagedArrays().size(), "nothing left behind");
                float[] xv = x.toFloatArray();
                double h = 1e-3;
                for (int j : new int[] {3, 27, 64 + 40}) {
                    float[] plus = xv.clone();
                    float[] minus = xv.clone();
                    plus[j] += (float) h;
                    minus[j] -= (float) h;
                    double fd = (loss(p, c, base, plus, 5, labels) - loss(p, c, base, minus, 5, labels)) / (2 * h);
                    assertEquals(fd, recomputed[j], 2e-3 + 0.05 * Math.abs(fd), p.name() + " pixel " + j);
                }
            }
        }
    }

    @Test
    void surrogateIsExactThroughTheCoarsePurifier() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = DiffusionModel.create(DiffPureTest.TINY, base.newSubManager(), 2)) {
            Classifier c = linear(base);
            int[] labels = {1, 0};
            NDArray x = base.randomUniform(0.2f, 0.8f, new Shape(2, 1, 8, 8));
            DiffPure p = new DiffPure(model, DiffPure.Options.ddpm(0.02));
            long c0 = model.unetCallsSoFar();
            float[] s = new DefendedClassifier(p, c).lossGradient(x, GradientMode.SURROGATE, 9, ce(labels))
                    .gradient().toFloatArray();
            long c1 = model.unetCallsSoFar();
            float[] e = new DefendedClassifier(p.surrogate(), c).lossGradient(x, GradientMode.EXACT, 9, ce(labels))
                    .gradient().toFloatArray();
            long c2 = model.unetCallsSoFar();
            new DefendedClassifier(p, c).lossGradient(x, GradientMode.EXACT, 9, ce(labels)).gradient().close();
            long c3 = model.unetCallsSoFar();
            assertArrayEquals(e, s, 0f);
            assertTrue(maxAbsFinite(s) > 0, "a finite, non-zero gradient");
            assertEquals(5, p.surrogate().options().sampler().steps());
            // The two arrays above would also agree if SURROGATE ran the full chain: count what each route ran.
            assertEquals(c2 - c1, c1 - c0, "SURROGATE runs the coarse chain's UNet calls");
            assertTrue(c1 - c0 < c3 - c2, "fewer UNet calls than the full 20-step chain: " + (c1 - c0) + " vs "
                    + (c3 - c2));
        }
    }

    @Test
    void bpdaIsTheClassifierGradientAtThePurifiedPoint() {
        try (NDManager base = NDManager.newBaseManager()) {
            Classifier c = linear(base);
            int[] labels = {2};
            NDArray x = base.randomUniform(0f, 1f, new Shape(1, 1, 8, 8));
            Purifier median = new MedianSmoothing(3);
            float[] bpda = new DefendedClassifier(median, c).lossGradient(x, GradientMode.BPDA, 0, ce(labels))
                    .gradient().toFloatArray();
            float[] atPurified = autogradThrough(new Purifier() {
                public String name() {
                    return "identity";
                }

                public java.util.Set<GradientMode> gradientModes() {
                    return java.util.Set.of(GradientMode.EXACT);
                }

                public boolean randomized() {
                    return false;
                }

                public NDArray purify(NDArray in, long seed) {
                    return in;
                }
            }, c, median.purify(x, 0), 0, labels);
            assertArrayEquals(atPurified, bpda, 1e-6f);
            // and finite differences of the classifier at the purified point agree
            float[] p = median.purify(x, 0).toFloatArray();
            double h = 1e-3;
            for (int j : new int[] {0, 33}) {
                float[] plus = p.clone();
                float[] minus = p.clone();
                plus[j] += (float) h;
                minus[j] -= (float) h;
                try (NDManager s = base.newSubManager()) {
                    double fp = ce(labels).apply(c.logits(s.create(plus, new Shape(1, 1, 8, 8)))).getFloat();
                    double fm = ce(labels).apply(c.logits(s.create(minus, new Shape(1, 1, 8, 8)))).getFloat();
                    assertEquals((fp - fm) / (2 * h), bpda[j], 2e-3);
                }
            }
        }
    }

    @Test
    void steIsHardForwardAndIdentityBackward() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {0.1f, 0.6f, 0.4f, 0.9f});
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = Ste.threshold(x, 0.5f);
                assertArrayEquals(new float[] {0, 1, 0, 1}, y.toFloatArray());
                gc.backward(y.mul(m.create(new float[] {1, 2, 3, 4})).sum());
            }
            assertArrayEquals(new float[] {1, 2, 3, 4}, x.getGradient().toFloatArray());
        }
    }

    /** The attack-side route: an AttackModel fed by the recomputing oracle gets the same gradient. */
    @Test
    void attackModelWithTheOracleMatchesTheDirectComputation() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = DiffusionModel.create(DiffPureTest.TINY, base.newSubManager(), 2)) {
            Classifier c = linear(base);
            DefendedClassifier d = new DefendedClassifier(new DiffPure(model, DiffPure.Options.ddim(0.05, 3)), c);
            int[] labels = {0, 1};
            NDArray x = base.randomUniform(0.2f, 0.8f, new Shape(2, 1, 8, 8));
            AttackModel am = new AttackModel(z -> d.logits(z, GradientMode.BPDA, 4),
                    (rows, loss) -> {
                        DefendedClassifier.LossGradient lg = d.lossGradient(rows, GradientMode.EXACT, 4, loss);
                        return new NDArray[] {lg.loss(), lg.logits(), lg.gradient()};
                    }, base, new Shape(1, 8, 8), 1);
            float[] g = am.evaluate(x.toFloatArray(), 2, AttackModel.Loss.CE, labels, null).gradient();
            assertArrayEquals(autogradThrough(d.purifier(), c, x, 4, labels), g, 1e-4f);
            assertTrue(am.forwardImages() == 2);
        }
    }

    /** The largest |v|, failing on a non-finite entry (JUnit's array equality treats NaN as equal to NaN). */
    private static float maxAbsFinite(float[] v) {
        float max = 0;
        for (float f : v) {
            assertTrue(Float.isFinite(f), "non-finite gradient entry");
            max = Math.max(max, Math.abs(f));
        }
        return max;
    }
}
