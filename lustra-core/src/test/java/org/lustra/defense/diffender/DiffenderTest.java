package org.lustra.defense.diffender;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.defense.GradientMode;
import org.lustra.diffusion.Captions;
import org.lustra.diffusion.DiffusionConfig;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;

/** DIFFender's pieces on hand-made maps and a tiny random diffusion model. */
class DiffenderTest {
    static final DiffusionConfig TINY = new DiffusionConfig(1, 8, new int[] {8, 16}, 2, 4,
            new Captions(List.of("alpha", "beta")).vocabulary(), 12, 8, 1, 1000, 1e-4, 0.02);

    static DiffusionModel tiny(NDManager m) {
        DiffusionModel model = DiffusionModel.create(TINY, m.newSubManager(), 1);
        for (var p : model.net().getParameters()) {
            if (p.getKey().endsWith("out_weight")) { // the UNet's last layer starts at zero; wake it up
                NDArray w = p.getValue().getArray();
                w.set(new NoiseSource(9).normal(m, w.getShape()).mul(0.05f).toFloatArray());
            }
        }
        model.net().freezeParameters(true);
        return model;
    }

    static NDArray images(NDManager m, int n, long seed) {
        return new NoiseSource(seed).normal(m, new Shape(n, 1, 8, 8)).mul(0.25f).add(0.5f).clip(0f, 1f);
    }

    static Diffender.Options fast(Prompt l, Prompt r) {
        return new Diffender.Options(new PatchLocalizer.Options(0.3, 7.5, 3, 1.0, true, true, 64, false, null), l, r, true, 4,
                3.0, 1.0);
    }

    @Test
    void zScoresAndRefiningByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] s = new float[64];
            s[9] = 4f;
            float[] z = PatchLocalizer.zScores(m.create(s, new Shape(1, 1, 8, 8))).toFloatArray();
            double mean = 4.0 / 64;
            double std = Math.sqrt((Math.pow(4 - mean, 2) + 63 * mean * mean) / 64);
            assertEquals((4 - mean) / std, z[9], 1e-4);
            assertEquals(-mean / std, z[0], 1e-5);

            // an isolated pixel is blurred below 0.5 everywhere (centre weight 0.204) and disappears
            assertEquals(0f, PatchLocalizer.refine(m.create(oneHot(8, 3, 3), new Shape(1, 1, 8, 8))).sum()
                    .getFloat());
            // a 2×2 block keeps 0.204 + 2·0.124 + 0.075 = 0.527 > 0.5 on itself; dilation grows it to 4×4
            float[] block = new float[64];
            for (int r = 3; r <= 4; r++) {
                for (int c = 3; c <= 4; c++) {
                    block[r * 8 + c] = 1f;
                }
            }
            float[] refined = PatchLocalizer.refine(m.create(block, new Shape(1, 1, 8, 8))).toFloatArray();
            for (int r = 0; r < 8; r++) {
                for (int c = 0; c < 8; c++) {
                    boolean inside = r >= 2 && r <= 5 && c >= 2 && c <= 5;
                    assertEquals(inside ? 1f : 0f, refined[r * 8 + c], "pixel " + r + "," + c);
                }
            }
        }
    }

    static float[] oneHot(int side, int r, int c) {
        float[] a = new float[side * side];
        a[r * side + c] = 1f;
        return a;
    }

    @Test
    void emptyPromptsWithSharedNoiseSeeNothingAndTheEpVariantDrawsIndependentNoise() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = tiny(m)) {
            NDArray x = images(m, 3, 1);
            Diffender d = new Diffender(model, fast(Prompt.empty(), Prompt.empty()));
            Diffender.Result r = d.purifyWithMasks(x, 5);
            assertEquals(0f, r.localization().anomaly().abs().max().getFloat(), "∅ vs ∅ from the same noise");
            assertEquals(0f, r.localization().mask().sum().getFloat());
            assertArrayEquals(x.toFloatArray(), r.purified().toFloatArray(), "nothing masked, nothing changed");

            Diffender ep = new Diffender(model, fast(Prompt.empty(), Prompt.empty()).withLocalization(
                    fast(Prompt.empty(), Prompt.empty()).localization().withIndependentNoise(true)));
            assertTrue(ep.purifyWithMasks(x, 5).localization().anomaly().min().getFloat() > 0,
                    "independent draws differ everywhere");
        }
    }

    @Test
    void purifiesDeterministicallyPastesUnmaskedPixelsBackAndTheAttackForwardMatches() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = tiny(m)) {
            NDArray x = images(m, 4, 2);
            Diffender d = new Diffender(model, fast(Prompt.text("a photo of a alpha with a patch"),
                    Prompt.text("a clean beta")));
            assertEquals(java.util.EnumSet.of(GradientMode.BPDA, GradientMode.STE, GradientMode.MASKED),
                    d.gradientModes());
            Diffender.Result r = d.purifyWithMasks(x, 7);
            float[] mask = r.localization().mask().toFloatArray();
            float[] in = x.toFloatArray();
            float[] out = r.purified().toFloatArray();
            int masked = 0;
            for (int j = 0; j < in.length; j++) {
                assertTrue(mask[j] == 0f || mask[j] == 1f, "binary mask");
                if (mask[j] == 0f) {
                    assertEquals(in[j], out[j], "unmasked pixel " + j + " pasted back");
                } else {
                    masked++;
                }
            }
            assertTrue(masked > 0 && masked < in.length, "θ = 1 marks some but not all pixels: " + masked);
            assertArrayEquals(out, d.purify(x, 7).toFloatArray(), "same seed, same bytes");
            assertFalse(java.util.Arrays.equals(out, d.purify(x, 8).toFloatArray()), "another seed, other noise");

            // NR: the same mask (same seed, same localisation noise), zeros inside
            Diffender nr = new Diffender(model, fast(Prompt.text("a photo of a alpha with a patch"),
                    Prompt.text("a clean beta")).withRestore(false));
            float[] zeroed = nr.purify(x, 7).toFloatArray();
            for (int j = 0; j < in.length; j++) {
                assertEquals(mask[j] == 1f ? 0f : in[j], zeroed[j], 1e-7);
            }

            // the adaptive-attack forward: same output, a finite gradient that reaches the input through the mask
            NDArray leaf = x.duplicate();
            leaf.setRequiresGradient(true);
            float[] attacked;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray o = d.purifyForAttack(leaf, 7);
                attacked = o.toFloatArray();
                gc.backward(o.sum());
            }
            assertArrayEquals(out, attacked, 1e-6f);
            float[] g = leaf.getGradient().toFloatArray();
            boolean offIdentity = false;
            for (float v : g) {
                assertTrue(Float.isFinite(v));
                offIdentity |= Math.abs(v - 1f) > 1e-4;
            }
            assertTrue(offIdentity, "BPDA alone would give exactly 1 everywhere; STE through the mask adds to it");
        }
    }

    @Test
    void learnedPromptsMustFitTheEncoder() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = tiny(m)) {
            assertThrows(IllegalArgumentException.class, () -> Prompt.learned(new float[5], 12, 8));
            Prompt wrong = Prompt.learned(new float[10 * 8], 10, 8);
            assertThrows(IllegalArgumentException.class, () -> wrong.context(model, m, 2));
            Prompt ok = Prompt.learned(new float[12 * 8], 12, 8);
            assertEquals(new Shape(2, 12, 8), ok.context(model, m, 2).getShape());
            assertThrows(IllegalArgumentException.class, () -> new PatchLocalizer.Options(1.2, 7.5, 3, 2, true, true,
                    64, false, null));
        }
    }

    @Test
    void localisationLeavesNoArraysBehind() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = tiny(m)) {
            NDArray x = images(m, 2, 3);
            Diffender d = new Diffender(model, fast(Prompt.text("alpha"), Prompt.text("beta")));
            int before = m.getManagedArrays().size();
            for (int i = 0; i < 3; i++) {
                d.purify(x, i).close();
            }
            assertEquals(before, m.getManagedArrays().size());
        }
    }
}
