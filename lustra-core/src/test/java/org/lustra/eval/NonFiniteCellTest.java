package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.attack.AttackModel;
import org.lustra.attack.GradientCounts;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;

/**
 * "An adversarial input with any non-finite pixel is a failed attack, flagged in the cell; sanity checks cover patch
 * cells too (pixels outside the patch unchanged, patch in [0, 1]) and fail on any NaN" (issue 9, Build 4).
 */
class NonFiniteCellTest {
    @TempDir
    Path tmp;

    @Test
    void givenImagesWithANaNAndAnInfinitePixel_whenReplaced_thenTheyBecomeTheirCleanImagesAndAreFlagged() {
        // given three 1×2×2 images: the second has a NaN, the third a −∞
        float[] clean = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.0f, 0.0f, 0.5f};
        float[] adv = {0.15f, 0.2f, 0.3f, 0.4f, 0.5f, Float.NaN, 0.7f, 0.8f, 0.9f, 1.0f, 0.0f,
            Float.NEGATIVE_INFINITY};

        // when
        boolean[] bad = Scoring.replaceNonFinite(adv, clean, 3);

        // then
        assertArrayEquals(new boolean[] {false, true, true}, bad);
        assertArrayEquals(new float[] {0.15f, 0.2f, 0.3f, 0.4f}, Arrays.copyOfRange(adv, 0, 4), "finite: untouched");
        assertArrayEquals(Arrays.copyOfRange(clean, 4, 12), Arrays.copyOfRange(adv, 4, 12));
    }

    /** Hands back the clean images with a NaN pixel in image 0 and +∞ in image 2; images 1 and 3 move by 0.05. */
    private static final class NonFiniteAttack extends StubLpAttack {
        NonFiniteAttack() {
            super("no steps (a stub whose output has non-finite pixels)");
        }

        @Override
        public Outcome run(AttackModel model, float[] x, int[] labels, long seed) {
            int d = model.imageSize();
            float[] adv = x.clone();
            adv[0 * d + d / 2] = Float.NaN;
            adv[2 * d + 3] = Float.POSITIVE_INFINITY;
            for (int i : new int[] {1, 3}) {
                for (int j = i * d; j < (i + 1) * d; j++) {
                    adv[j] = Math.min(1f, x[j] + 0.05f);
                }
            }
            return new Outcome(adv, null, labels.length, GradientCounts.NONE, List.of());
        }
    }

    @Test
    void givenAnAttackWhoseOutputHasNonFinitePixels_whenACellRuns_thenThoseImagesAreFailedAttacksAndTheCellIsFlagged()
            throws Exception {
        // given an undefended cell whose attack returns a NaN pixel in image 0 and +∞ in image 2
        Experiment exp = Experiment.builder("nan-image", "classifier-resnet").optSubset("eval512").optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses("none").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("pgd", "linf", 0.1, 1)).optBatch(4).build();
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            ExperimentRunner r = new ExperimentRunner(exp, ExperimentRunnerTest.inputs(c), tmp, s -> { })
                    .withAttack("pgd", new NonFiniteAttack());

            // when
            r.run(r.manifest("test", Map.of()));
        }

        // then the two images are flagged and scored on their clean image: robust exactly when the clean image is
        // classified correctly (a NaN image would be "no class", a wrong answer, and count as fooled)
        List<SampleRecord> recs = new RunDirectory(tmp).readRecords();
        assertEquals(4, recs.size());
        int cleanRight = 0;
        for (SampleRecord rec : recs) {
            boolean flagged = rec.index() == 0 || rec.index() == 2;
            assertEquals(flagged, rec.nonFinite(), rec.toString());
            if (flagged) {
                assertEquals(rec.cleanCorrect(), rec.robust(), rec.toString());
                assertEquals(rec.cleanPrediction(), rec.adversarialPrediction(), rec.toString());
                assertEquals(0.0, rec.distLinf(), 0, rec.toString());
                cleanRight += rec.cleanCorrect() ? 1 : 0;
            } else {
                assertTrue(rec.distLinf() > 0 && Double.isFinite(rec.distLinf()), rec.toString());
            }
        }
        assertTrue(cleanRight > 0, "precondition: a flagged image is classified correctly when clean, so its "
                + "robust = true tells a replaced image from a NaN one");
        Report.Summary s = Report.write(tmp);
        Report.CellSummary cell = s.cells().get(0);
        assertEquals(2, cell.nonFiniteInputs());
        assertTrue(cell.warnings().contains("2 adversarial input(s) had non-finite pixels (failed attacks, scored "
                + "clean)"), cell.warnings().toString());
        Report.Check check = check(s.checks(), "no adversarial input is non-finite");
        assertFalse(check.passed(), check.toString());
        assertTrue(check.detail().contains(cell.cell()), check.detail());
        assertTrue(Files.readString(tmp.resolve("report.md")).contains("**FAIL** — no adversarial input is "
                + "non-finite"));
    }

    private static Report.Check check(List<Report.Check> checks, String relation) {
        return checks.stream().filter(ch -> ch.relation().equals(relation)).findFirst()
                .orElseThrow(() -> new AssertionError("no check '" + relation + "' in " + checks));
    }

    private static final CellInfo LP = new CellInfo("none", "pgd-linf-0.1000-s1", "none", "EXACT", "threat",
            "linf eps=0.1");

    @Test
    void givenARecordWrittenBeforeTheFlagWithANaNDistance_whenScored_thenItCountsAsNonFinite() {
        // given a v1 record (no nonFinite field) whose ℓ∞ distance is NaN, next to a healthy one
        SampleRecord nan = new SampleRecord(1, "c", 0, 0, 3, 3, 5, true, false, null, 1, Double.NaN, Double.NaN,
                Double.NaN, Double.NaN, null, 1, 1);
        SampleRecord ok = new SampleRecord(1, "c", 0, 1, 3, 3, 3, true, true, null, 1, 0.05, 0.2, 30, 0.9, null, 1, 1);

        // when
        Report.CellSummary row = Report.scoreCell("c", LP, List.of(nan, ok));

        // then
        assertEquals(1, row.nonFiniteInputs());
        Report.Check check = check(SanityChecks.of(List.of(row), Map.of()), "no adversarial input is non-finite");
        assertFalse(check.passed(), check.toString());
    }

    // --- the patch check: 2 channels of 2×2 pixels; the patch covers pixel 0 (both channels) ---------------------

    private static final float[] CLEAN = {0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f};
    private static final float[] MASK = {1f, 0f, 0f, 0f};

    /** The clean image with pixel 0 of both channels set to {@code a} and {@code b}. */
    private static float[] patched(float a, float b) {
        float[] adv = CLEAN.clone();
        adv[0] = a;
        adv[4] = b;
        return adv;
    }

    private static boolean valid(float[] adv) {
        return Scoring.patchValid(CLEAN, adv, MASK, 0, 2, 2, 2);
    }

    @Test
    void givenAPatchInsideItsMaskWithValuesInTheUnitInterval_whenChecked_thenItIsValid() {
        assertTrue(valid(patched(0.9f, 0.1f)));
        assertTrue(valid(patched(0f, 1f)), "the interval's ends are inside it");
        assertTrue(valid(CLEAN.clone()), "an unchanged image is a valid (failed) patch");
    }

    @Test
    void givenAPixelOutsideThePatchChanged_whenChecked_thenTheCheckFails() {
        // given a valid patch, and the second channel's last pixel (outside the mask) moved by 0.01
        float[] adv = patched(0.9f, 0.1f);
        adv[7] = 0.91f;

        // then
        assertFalse(valid(adv));
    }

    @Test
    void givenPatchValuesOutsideTheUnitInterval_whenChecked_thenTheCheckFails() {
        assertFalse(valid(patched(1.5f, 0.5f)));
        assertFalse(valid(patched(0.5f, -0.01f)));
    }

    @Test
    void givenANaNInsideOrOutsideThePatch_whenChecked_thenTheCheckFails() {
        // a NaN compares false both ways: "v < 0 || v > 1" would pass it, so this pins the check's form
        assertFalse(valid(patched(Float.NaN, 0.5f)), "NaN inside the patch");
        float[] outside = patched(0.9f, 0.1f);
        outside[6] = Float.NaN;
        assertFalse(valid(outside), "NaN outside the patch");
        assertFalse(valid(patched(0.5f, Float.POSITIVE_INFINITY)), "+∞ inside the patch");
    }

    @Test
    void givenTwoImages_whenTheSecondsPatchIsInvalid_thenOnlyItFailsAndTheCellsSanityCheckFails() {
        // given image 0 a valid patch, image 1 a patch value of 1.2 (its mask is pixel 3)
        float[] clean = new float[16];
        System.arraycopy(CLEAN, 0, clean, 0, 8);
        System.arraycopy(CLEAN, 0, clean, 8, 8);
        float[] adv = clean.clone();
        adv[0] = 0.95f;
        adv[8 + 3] = 1.2f;
        float[] masks = {1f, 0f, 0f, 0f, 0f, 0f, 0f, 1f};
        int[][] votes = {{0, 0}};
        Scoring.Chunk chunk = new Scoring.Chunk(1, "c", 0, 0, new int[] {0, 0}, clean, adv, masks, new boolean[2],
                votes, votes, 2, 2, 2, 1, 1, new GradientCounts(4, 0, 0), null, null, null, null);

        Experiment exp = Experiment.builder("p", "classifier-resnet").optSubset("eval512").optImages(2)
                .optProfile("quick").optSeeds(1L).optDefenses("none").optModes("adaptive")
                .optAttacks(ExperimentRunnerTest.attack("lavan", null, null, 1)).optBatch(2).build();
        Experiment.AttackSpec lavan = exp.expandedAttacks().get(0);
        Map<String, Experiment.AttackSpec> attacks = Map.of(lavan.id(), lavan);

        // when
        List<SampleRecord> recs = Scoring.records(chunk);
        Report.CellSummary row = Report.scoreCell("c", new CellInfo("none", lavan.id(), "none", "EXACT", "threat",
                "patch"), recs);

        // then
        assertEquals(true, recs.get(0).patchValid());
        assertEquals(false, recs.get(1).patchValid());
        assertEquals(1.0, recs.get(1).patchArea(), 0);
        assertEquals(1, row.invalidPatches());
        List<Report.Check> checks = SanityChecks.of(List.of(row), attacks);
        Report.Check patch = check(checks, "patch cells change only the patch, inside [0, 1]");
        assertFalse(patch.passed(), patch.toString());
        assertTrue(patch.detail().contains("1 invalid patch input(s) in [c]"), patch.detail());
    }
}
