package org.lustra.defense.hetero;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.lustra.defense.MaskingPurifier;
import org.lustra.defense.diffpure.DiffPure;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSchedule;
import org.lustra.model.NetClassifier;

/** The heterogeneous forward process, the two-stage chain and its resampling on a tiny random UNet. */
class HeteroPurifierTest {

    @Test
    void givenMaskAndNoise_whenTheForwardProcessRuns_thenEachPixelIsNoisedToItsOwnLevel() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = TinyHetero.model(base)) {
            HeteroPurifier p = new HeteroPurifier(model, null, HeteroOptions.builder().optNoiseLevels(0.2, 0.05)
                    .build());
            NDArray x = base.randomUniform(0, 1, new Shape(2, 1, 8, 8));
            NDArray mask = TinyHetero.mixedMask(base, 2);
            NDArray eps = base.randomNormal(new Shape(2, 1, 8, 8));
            float[] got = p.forwardProcess(x, mask, eps).toFloatArray();
            NoiseSchedule s = NoiseSchedule.standard();
            double abL = s.alphaBar(200);
            double abS = s.alphaBar(50);
            float[] xv = x.toFloatArray();
            float[] mv = mask.toFloatArray();
            float[] ev = eps.toFloatArray();
            for (int i = 0; i < got.length; i++) {
                double ab = mv[i % 64 + (i / 64) * 64] == 1f ? abL : abS;
                double expected = Math.sqrt(ab) * (2 * xv[i] - 1) + Math.sqrt(1 - ab) * ev[i];
                assertEquals(expected, got[i], 1e-5, "pixel " + i);
            }
        }
    }

    @Test
    void givenTheSmallConfiguration_whenTheGridIsPlanned_thenBothLevelsAreOnIt() {
        assertArrayEquals(new int[] {20, 17, 14, 11, 10, 7, 4, 1, 0}, HeteroChain.grid(20, 10, 3));
        assertArrayEquals(new int[] {20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0}, HeteroChain.grid(20, 10, 2));
    }

    /**
     * t_l = 20, t_s = 10, stride 2: five stage-1 steps (20 → 18 … 12 → 10) and six stage-2 steps. Single-step
     * resampling adds one UNet call per stage-1 step; multi-step with U = 3 adds three.
     */
    @Test
    void givenResampling_whenABatchIsPurified_thenTheUNetRunsAsOftenAsTheSeedSaysOncePerStepForTheBatch() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = TinyHetero.model(base)) {
            NDArray x = base.randomUniform(0, 1, new Shape(2, 1, 8, 8));
            NDArray mask = TinyHetero.mixedMask(base, 2);
            assertEquals(11, unetCallsOfOnePurification(model, TinyHetero.small().build(), x, mask));
            assertEquals(16, unetCallsOfOnePurification(model, TinyHetero.small().optResampling(
                    HeteroOptions.Resampling.SINGLE, 3).build(), x, mask));
            assertEquals(26, unetCallsOfOnePurification(model, TinyHetero.small().optResampling(
                    HeteroOptions.Resampling.MULTI, 3).build(), x, mask));
        }
    }

    /** UNet calls counted by the model while a batch of two is purified; bench's per-row figure must agree. */
    private static long unetCallsOfOnePurification(DiffusionModel model, HeteroOptions o, NDArray x, NDArray mask) {
        HeteroPurifier p = new HeteroPurifier(model, null, o);
        long before = model.unetCallsSoFar();
        p.purify(x, mask, 5).close();
        long counted = model.unetCallsSoFar() - before;
        assertEquals(counted, p.unetCalls(), "what bench reports per row");
        return counted;
    }

    /** With M = 1 everywhere the chain is DiffPure from t_l on the same DDIM grid with the same first noise draw. */
    @Test
    void givenAMaskOfOnes_whenPurified_thenItIsDiffPureFromTl() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = TinyHetero.model(base)) {
            NDArray x = base.randomUniform(0, 1, new Shape(2, 1, 8, 8));
            HeteroPurifier p = new HeteroPurifier(model, null, TinyHetero.small().build());
            float[] hetero = p.purify(x, base.ones(new Shape(2, 1, 8, 8)), 11).toFloatArray();
            float[] diffpure = new DiffPure(model, DiffPure.Options.ddim(0.02, 11)).purify(x, 11).toFloatArray();
            assertArrayEquals(diffpure, hetero, 1e-6f);
        }
    }

    @Test
    void givenUZero_whenResampling_thenTheOutputIsThePlainChain() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = TinyHetero.model(base)) {
            NDArray x = base.randomUniform(0, 1, new Shape(2, 1, 8, 8));
            NDArray mask = TinyHetero.mixedMask(base, 2);
            float[] plain = new HeteroPurifier(model, null, TinyHetero.small().optEta(0.5).build()).purify(x, mask, 3)
                    .toFloatArray();
            for (HeteroOptions.Resampling r : HeteroOptions.Resampling.values()) {
                HeteroOptions o = TinyHetero.small().optEta(0.5).optResampling(r, 0).build();
                assertArrayEquals(plain, new HeteroPurifier(model, null, o).purify(x, mask, 3).toFloatArray(), 0f,
                        r.name());
            }
        }
    }

    @Test
    void givenUPositive_whenResampling_thenTheOutputChanges() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = TinyHetero.model(base)) {
            NDArray x = base.randomUniform(0, 1, new Shape(2, 1, 8, 8));
            NDArray mask = TinyHetero.mixedMask(base, 2);
            float[] plain = new HeteroPurifier(model, null, TinyHetero.small().build()).purify(x, mask, 3)
                    .toFloatArray();
            for (HeteroOptions.Resampling r : new HeteroOptions.Resampling[] {HeteroOptions.Resampling.SINGLE,
                HeteroOptions.Resampling.MULTI}) {
                HeteroOptions o = TinyHetero.small().optResampling(r, 2).build();
                float[] resampled = new HeteroPurifier(model, null, o).purify(x, mask, 3).toFloatArray();
                assertFalse(Arrays.equals(plain, resampled), r.name());
            }
        }
    }

    @Test
    void givenASeed_whenPurifiedTwice_thenTheSameBytesAndAnotherSeedDiffers() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = TinyHetero.model(base);
                NetClassifier c = TinyHetero.resnet(base, 1)) {
            NDArray x = base.randomUniform(0, 1, new Shape(2, 1, 8, 8));
            HeteroPurifier p = new HeteroPurifier(model, c, TinyHetero.small().optResampling(
                    HeteroOptions.Resampling.SINGLE, 2).optEta(0.3).build());
            float[] a = p.purify(x, 7).toFloatArray();
            assertArrayEquals(a, p.purify(x, 7).toFloatArray(), 0f);
            assertFalse(Arrays.equals(a, p.purify(x, 8).toFloatArray()));
            for (float v : a) {
                assertTrue(v >= 0 && v <= 1);
            }
        }
    }

    @Test
    void givenTheClassifierMask_whenPurifiedMaskedOrRecorded_thenAllAgreeWithPurify() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = TinyHetero.model(base);
                NetClassifier c = TinyHetero.resnet(base, 1)) {
            NDArray x = base.randomUniform(0, 1, new Shape(2, 1, 8, 8));
            HeteroPurifier p = new HeteroPurifier(model, c, TinyHetero.small().optResampling(
                    HeteroOptions.Resampling.MULTI, 1).optMask(AttentionMask.Options.defaults().withTopFraction(0.3))
                    .build());
            float[] plain = p.purify(x, 5).toFloatArray();
            MaskingPurifier.Masked m = p.purifyMasked(x, 5);
            assertArrayEquals(plain, m.purified().toFloatArray(), 0f);
            assertArrayEquals(p.attention(x).mask().toFloatArray(), m.mask().toFloatArray(), 0f);
            try (HeteroPurifier.Trace t = p.record(x, 5)) {
                assertArrayEquals(plain, t.output().toFloatArray(), 1e-6f);
            }
        }
    }

    @Test
    void givenHundredsOfUNetCalls_whenPurifiedAndPulledBack_thenNoArrayIsLeftBehind() {
        try (NDManager base = NDManager.newBaseManager();
                DiffusionModel model = TinyHetero.model(base);
                NetClassifier c = TinyHetero.resnet(base, 1)) {
            NDArray x = base.randomUniform(0, 1, new Shape(1, 1, 8, 8));
            HeteroPurifier p = new HeteroPurifier(model, c, HeteroOptions.builder().optNoiseLevels(0.05, 0.02)
                    .optSolver(HeteroOptions.Solver.DDPM).optStride(1).optResampling(HeteroOptions.Resampling.MULTI, 5)
                    .build());
            int before = base.getManagedArrays().size();
            NDArray out = p.purify(x, 1);
            assertEquals(before + 1, base.getManagedArrays().size(), "only the result stays");
            out.close();
            try (HeteroPurifier.Trace t = p.record(x, 1)) {
                NDArray cotangent = base.ones(new Shape(1, 1, 8, 8));
                int during = base.getManagedArrays().size();
                NDArray g = t.pullback(cotangent);
                assertEquals(during + 1, base.getManagedArrays().size(), "the pullback leaves only the gradient");
                g.close();
                cotangent.close();
            }
            assertEquals(before, base.getManagedArrays().size(), "closing the trace frees its stored steps");
        }
    }
}
