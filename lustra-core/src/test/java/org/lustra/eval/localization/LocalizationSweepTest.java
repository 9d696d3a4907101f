package org.lustra.eval.localization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.attack.Patch;
import org.lustra.defense.diffender.PromptTuning.PatchedSet;
import org.lustra.diffusion.Captions;
import org.lustra.diffusion.DiffusionConfig;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.eval.masks.PatchedImages;

/** The localisation sweep and its patched images, on a tiny random diffusion model with 8×8 images. */
class LocalizationSweepTest {
    @TempDir
    Path tmp;

    static final DiffusionConfig TINY = new DiffusionConfig(1, 8, new int[] {8, 16}, 2, 4,
            new Captions(List.of("alpha", "beta")).vocabulary(), 12, 8, 1, 1000, 1e-4, 0.02);

    static DiffusionModel tiny(NDManager m) {
        DiffusionModel model = DiffusionModel.create(TINY, m.newSubManager(), 1);
        for (var p : model.net().getParameters()) {
            if (p.getKey().endsWith("out_weight")) { // the UNet's last layer starts at zero; wake it up
                var w = p.getValue().getArray();
                w.set(new NoiseSource(9).normal(m, w.getShape()).mul(0.05f).toFloatArray());
            }
        }
        model.net().freezeParameters(true);
        return model;
    }

    static float[] images(NDManager m, int n, long seed) {
        return new NoiseSource(seed).normal(m, new ai.djl.ndarray.types.Shape(n, 1, 8, 8)).mul(0.25f).add(0.5f)
                .clip(0f, 1f).toFloatArray();
    }

    @Test
    void givenACheckerboardKind_whenPatched_thenTheMaskIsOneSquareAndItsPixelsAlternate() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] clean = images(m, 3, 1);
            PatchedSet p = PatchedImages.makeSet(PatchedImages.Kind.CHECKERBOARD, null, null, clean, new int[3], 1, 8,
                    0.15, 0, 4);
            int side = Patch.side(0.15, 8, 8);
            for (int i = 0; i < 3; i++) {
                int on = 0;
                for (int j = 0; j < 64; j++) {
                    if (p.masks()[i * 64 + j] == 1f) {
                        on++;
                        float v = p.adversarial()[i * 64 + j];
                        assertTrue(v == 0f || v == 1f, "checkerboard pixel " + v);
                    } else {
                        assertEquals(clean[i * 64 + j], p.adversarial()[i * 64 + j], "outside the patch untouched");
                    }
                }
                assertEquals(side * side, on);
            }
        }
    }

    @Test
    void givenTheTinyModel_whenTheGridRuns_thenEveryCellIsScoredFiniteAndRepeatsByteForByte() throws Exception {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = tiny(m)) {
            float[] clean = images(m, 4, 2);
            Map<String, PatchedSet> sets = new LinkedHashMap<>();
            sets.put("checkerboard", PatchedImages.makeSet(PatchedImages.Kind.CHECKERBOARD, null, null, clean,
                    new int[4], 1, 8, 0.15, 0, 5));
            sets.put("random", PatchedImages.makeSet(PatchedImages.Kind.RANDOM, null, null, clean, new int[4], 1, 8,
                    0.15, 0, 6));
            LocalizationSweep.Config config = new LocalizationSweep.Config(List.of(LocalizationSweep.Signal.MP,
                    LocalizationSweep.Signal.EP, LocalizationSweep.Signal.REC), new double[] {0.3, 0.7},
                    new double[] {1.5, 2.5}, new boolean[] {false, true}, 7, 3);
            List<LocalizationSweep.Row> rows = new LocalizationSweep(model, config).run(sets, clean, null);
            assertEquals(3 * 2 * 2 * 2 * 3, rows.size(), "signals × clips × ᾱ × θ × (2 kinds + clean)");
            for (LocalizationSweep.Row r : rows) {
                assertTrue(r.raw().maskedFraction() >= 0 && r.raw().maskedFraction() <= 1);
                if (r.kind().equals(LocalizationSweep.CLEAN)) {
                    assertNull(r.raw().iou());
                } else {
                    assertTrue(r.raw().iou() >= 0 && r.raw().iou() <= 1 && r.refined().recall() >= 0, r.toString());
                }
            }
            List<LocalizationSweep.Row> again = new LocalizationSweep(model, config).run(sets, clean, null);
            assertEquals(rows, again, "fixed noise: the same numbers");
            LocalizationReport.write(tmp, new LocalizationReport.Document(Map.of("images", 4), rows));
            assertTrue(Files.readString(tmp.resolve("localization.md")).contains("| checkerboard | "));
            assertTrue(Files.size(tmp.resolve("localization.json")) > 100);
        }
    }

    @Test
    void givenTheTunedSignalWithoutPrompts_whenRun_thenOneSentenceSaysWhatIsMissing() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = tiny(m)) {
            LocalizationSweep.Config config = new LocalizationSweep.Config(List.of(LocalizationSweep.Signal.TUNED),
                    new double[] {0.3}, new double[] {2}, new boolean[] {false}, 7, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new LocalizationSweep(model, config).run(Map.of(), images(m, 1, 1), null));
            assertTrue(e.getMessage().contains("tuned prompts"));
        }
    }
}
