package org.lustra.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The native, layer-norm and batch-norm GroupNorm kernels compute one function: same values, same gradients. */
class GroupNormKernelsTest {
    private record Run(float[] y, float[] dx, float[] dgamma, float[] dbeta) {}

    private static Run run(GroupNorm.Kernel kernel, boolean silu, float[] x, Shape shape, float[] gamma, float[] beta,
            float[] upstream) {
        try (NDManager m = NDManager.newBaseManager()) {
            GroupNorm gn = new GroupNorm(4, 1e-5f, silu).useKernel(kernel);
            gn.initialize(m, DataType.FLOAT32, shape);
            gn.getParameters().get("gamma").getArray().set(gamma);
            gn.getParameters().get("beta").getArray().set(beta);
            NDArray in = m.create(x, shape);
            in.setRequiresGradient(true);
            NDArray up = m.create(upstream, shape);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = gn.forward(new ParameterStore(m, false), new NDList(in), false).singletonOrThrow();
                NDArray loss = y.mul(up).sum();
                gc.backward(loss);
                return new Run(y.toFloatArray(), in.getGradient().toFloatArray(),
                        gn.getParameters().get("gamma").getArray().getGradient().toFloatArray(),
                        gn.getParameters().get("beta").getArray().getGradient().toFloatArray());
            }
        }
    }

    private static float[] random(SplittableRandom r, int n, double scale, double offset) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (offset + scale * (r.nextDouble() * 2 - 1));
        }
        return v;
    }

    private static void assertClose(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertTrue(Float.isFinite(got[i]), what + "[" + i + "] is not finite");
            assertEquals(want[i], got[i], tol * Math.max(1, Math.abs(want[i])), what + "[" + i + "]");
        }
    }

    @Test
    void givenTheNativeModule_whenLoadedFromTheJar_thenItIsAvailableOffline() {
        assertNotNull(NativeGroupNorm.get(), () -> "native group_norm failed to load: " + NativeGroupNorm.failure());
    }

    @Test
    void givenRandomInputs_whenEveryKernelRunsForwardAndBackward_thenValuesAndGradientsAgreeWithin1e5() {
        Shape shape = new Shape(3, 8, 5, 6);
        int n = (int) shape.size();
        SplittableRandom r = new SplittableRandom(7);
        float[] x = random(r, n, 2, 0.3);
        // one image's first group constant (a black background): variance 0, the eps-only path
        for (int i = 0; i < 2 * 30; i++) {
            x[i] = 0f;
        }
        float[] gamma = random(r, 8, 1, 1);
        float[] beta = random(r, 8, 0.5, 0);
        float[] up = random(r, n, 1, 0);
        for (boolean silu : new boolean[] {false, true}) {
            Run old = run(GroupNorm.Kernel.BATCH_NORM, silu, x, shape, gamma, beta, up);
            for (GroupNorm.Kernel k : new GroupNorm.Kernel[] {GroupNorm.Kernel.NATIVE, GroupNorm.Kernel.LAYER_NORM}) {
                Run got = run(k, silu, x, shape, gamma, beta, up);
                String tag = k + (silu ? "+silu " : " ");
                assertClose(old.y(), got.y(), 1e-5, tag + "y");
                assertClose(old.dx(), got.dx(), 1e-5, tag + "dx");
                assertClose(old.dgamma(), got.dgamma(), 1e-5, tag + "dgamma");
                assertClose(old.dbeta(), got.dbeta(), 1e-5, tag + "dbeta");
            }
        }
    }

    @Test
    void givenTheArchive_whenBuilt_thenItHoldsTheCommittedSourceUnderOneFolder() throws Exception {
        byte[] zip = NativeGroupNorm.archive(NativeGroupNorm.source());
        String text = new String(zip, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("lustra_groupnorm_silu/code/__torch__.py"));
        assertTrue(text.contains("torch.group_norm(x, int(g), w, b, float(eps), True)"));
    }
}
