package org.lustra.defense.diffender;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.DiffenderSpec;
import org.lustra.defense.MaskScores;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.eval.localization.CleanMasking;
import org.lustra.eval.masks.PatchedImages;

/**
 * Issue 11 item 4, "the default must work": the variant {@code lustra purify} uses by default finds a plain 6×6
 * checkerboard on validation images (raw-mask IoU ≥ 0.5) and leaves most of a clean image alone. The diffusion model is
 * a parameter ({@code -Dlustra.test.diffusion=NAME}, default the shipped {@code diffusion-unified}), so the same test
 * checks a new model before it ships.
 */
class DefaultDiffenderTest {
    static final String MODEL = System.getProperty("lustra.test.diffusion", "diffusion-unified");
    static final int N = 8;
    static final int FROM = 4500;

    @Test
    void givenACheckerboardPatch_whenTheDefaultVariantLocalises_thenTheRawMaskOverlapsItWithIouAtLeastHalf() {
        ImageSet val = Subsets.load("validation");
        try (DiffusionModel model = DiffusionModel.load(MODEL); NDManager m = NDManager.newBaseManager()) {
            Diffender d = defaultVariant(model);
            float[] clean = val.batch(m, FROM, FROM + N).toFloatArray();
            PromptTuning.PatchedSet p = PatchedImages.makeSet(PatchedImages.Kind.CHECKERBOARD, null, null, clean,
                    Arrays.copyOfRange(val.labels(), FROM, FROM + N), 1, 28, 0.05, 0, 11);
            float[] raw = d.localizer().localize(m.create(p.adversarial(), new Shape(N, 1, 28, 28)),
                    d.options().promptL(), new NoiseSource(3)).rawMask().toFloatArray();
            double iou = 0;
            for (int i = 0; i < N; i++) {
                iou += MaskScores.overlap(raw, i * 784, p.masks(), i * 784, 784).iou();
            }
            iou /= N;
            System.out.printf("default %s on %s: raw-mask IoU %.3f on %d checkerboards%n", DefenseSpec
                    .DIFFENDER_DEFAULT, MODEL, iou, N);
            assertTrue(iou >= 0.5, DefenseSpec.DIFFENDER_DEFAULT + " on " + MODEL + ": raw-mask IoU " + iou);
        }
    }

    @Test
    void givenCleanImages_whenTheDefaultVariantLocalises_thenItMasksAtMostThreePercentOfThePixels() {
        ImageSet val = Subsets.load("validation");
        try (DiffusionModel model = DiffusionModel.load(MODEL)) {
            CleanMasking.Result r = CleanMasking.measure(defaultVariant(model), val, FROM, FROM + N, 0, 16);
            System.out.printf("default %s on %s: %.2f %% of clean pixels masked (max %.1f %%)%n",
                    DefenseSpec.DIFFENDER_DEFAULT, MODEL, 100 * r.mean(), 100 * r.max());
            // issue 11 item 4 asks ≤ 3 % on average over eval512 (the default: 1.99 %, docs/results/
            // diffender-floor-validation); on these 8 images the same bound, so a model or default that repaints
            // freely fails here
            assertTrue(r.mean() <= 0.03, "clean pixels masked: " + r.mean());
        }
    }

    private static Diffender defaultVariant(DiffusionModel model) {
        DiffenderSpec spec = DefenseSpec.parse(DefenseSpec.DIFFENDER_DEFAULT).asDiffender().orElseThrow();
        return new Diffender(model, spec.options(model));
    }
}
