package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.attack.Attack;
import org.lustra.attack.AttackModel;
import org.lustra.attack.GradientCounts;
import org.lustra.defense.GradientMode;
import org.lustra.defense.MaskingPurifier;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;

/**
 * "Show where detection is evaded" (issue 11): patch cells against a masking defence record the share of the true
 * patch the defence replaced, and the report crosses it with the verdict.
 */
class PatchDetectionTest {
    @TempDir
    Path tmp;

    private static SampleRecord rec(String cell, int index, boolean robust, Double patchMasked) {
        return new SampleRecord(1, cell, 0, index, 3, 3, robust ? 3 : 4, true, robust, null, 1, 1, 1, 10, 0.5, 16.0,
                1, 1, robust, false, true, 0L, 0L, 0L, null, null, patchMasked);
    }

    @Test
    void givenRecordsWithAndWithoutAMeasurement_whenCounted_thenEachVerdictMeetsItsDetection() {
        // given four measured records of one cell (detected at ≥ 0.5) and one ℓp-like record without a measurement
        List<SampleRecord> recs = List.of(rec("d|lavan|adaptive", 0, true, 1.0), rec("d|lavan|adaptive", 1, false, 0.5),
                rec("d|lavan|adaptive", 2, false, 0.25), rec("d|lavan|adaptive", 3, false, 0.0),
                rec("none|pgd|none", 0, false, null));

        // when
        Map<String, PatchDetection.Counts> counts = PatchDetection.of(recs);

        // then
        assertEquals(Map.of("d|lavan|adaptive", new PatchDetection.Counts(4, 0.4375, 1, 0, 1, 2)), counts);
        assertTrue(PatchDetection.markdown(recs).contains("| d|lavan|adaptive | 4 | 0.438 | 1 | 0 | 1 | 2 |"),
                PatchDetection.markdown(recs));
        assertEquals("", PatchDetection.markdown(List.of(rec("none|pgd|none", 0, false, null))));
    }

    @Test
    void givenADefenceThatReplacesTheLeftHalf_whenAPatchStraddlesTheMiddle_thenHalfThePatchIsRecordedAsReplaced()
            throws Exception {
        // given a 4×4 patch on columns 12–15 of 28 (two columns inside the left half) and a defence that replaces the
        // left half of every image; the undefended row beside it
        Experiment exp = Experiment.builder("detection", "classifier-resnet").optSubset("eval512").optImages(2)
                .optProfile("quick").optSeeds(1L).optDefenses("none", "dw").optModes("nonadaptive")
                .optAttacks(Experiment.AttackConfig.builder("lavan").optFraction(0.02).build()).optBatch(2).build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })
                    .withDefense("dw", new LeftHalfMasker()).withAttack("lavan", new StraddlingPatch());

            // when
            r.run(r.manifest("test", Map.of()));
        }

        // then the defended row's records measure 8 of 16 patch pixels replaced; the undefended row measures nothing
        for (SampleRecord rec : new RunDirectory(tmp).readRecords()) {
            if (rec.cell().startsWith("dw|")) {
                assertEquals(0.5, rec.patchMasked(), 1e-9, rec.toString());
            } else {
                assertNull(rec.patchMasked(), rec.toString());
            }
        }
        Report.write(tmp);
        assertTrue(Files.readString(tmp.resolve("report.md")).contains("## Patch detection"));
    }

    /** Leaves the image as it is but reports the left half (columns below w / 2) as the region it replaced. */
    private static final class LeftHalfMasker implements MaskingPurifier {
        @Override
        public String name() {
            return "left-half";
        }

        @Override
        public Set<GradientMode> gradientModes() {
            return Set.of(GradientMode.BPDA);
        }

        @Override
        public boolean randomized() {
            return false;
        }

        @Override
        public NDArray purify(NDArray x, long seed) {
            return purifyDroppingMasks(x, seed);
        }

        @Override
        public Masked purifyMasked(NDArray x, long seed) {
            NDManager m = x.getManager();
            int n = (int) x.getShape().get(0);
            int h = (int) x.getShape().get(2);
            int w = (int) x.getShape().get(3);
            float[] mask = new float[n * h * w];
            for (int i = 0; i < mask.length; i++) {
                mask[i] = i % w < w / 2 ? 1f : 0f;
            }
            NDArray region = m.create(mask, new ai.djl.ndarray.types.Shape(n, 1, h, w));
            return new Masked(x.duplicate(), region, region.duplicate());
        }
    }

    /** Paints a white 4×4 patch on rows 0–3, columns 12–15 of every image and returns its true masks. */
    private static final class StraddlingPatch implements Attack {
        @Override
        public String name() {
            return "lavan";
        }

        @Override
        public Budget budget() {
            return Budget.patch(0.02);
        }

        @Override
        public String iterations() {
            return "no steps (a fixed patch)";
        }

        @Override
        public boolean blackBox() {
            return true;
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            int n = labels.length;
            int plane = 28 * 28;
            int d = model.imageSize();
            float[] adv = x.clone();
            float[] masks = new float[n * plane];
            for (int i = 0; i < n; i++) {
                for (int row = 0; row < 4; row++) {
                    for (int col = 12; col < 16; col++) {
                        masks[i * plane + row * 28 + col] = 1f;
                        adv[i * d + row * 28 + col] = 1f;
                    }
                }
            }
            return new Outcome(adv, masks, n, GradientCounts.NONE, List.of());
        }
    }
}
