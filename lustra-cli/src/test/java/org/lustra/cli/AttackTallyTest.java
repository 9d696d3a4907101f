package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.attack.Attack;
import org.lustra.attack.GradientCounts;

/** {@code lustra attack pgd} never scores a non-finite value as a result: it counts it and ends with status 3. */
class AttackTallyTest {
    private static Attack.Outcome outcome(float[] adversarial, GradientCounts g) {
        return new Attack.Outcome(adversarial, null, 0, g, List.of());
    }

    @Test
    void givenAnAdversarialImageWithANanPixel_whenKept_thenItsCleanImageIsJudgedAndTheRunEndsWithStatus3() {
        AttackCommand.Tally t = new AttackCommand.Tally();
        float[] clean = {0.1f, 0.2f, 0.3f, 0.4f};
        float[] kept = t.keepFinite(outcome(new float[] {0.5f, Float.NaN, 0.7f, 0.8f}, new GradientCounts(4, 0, 0)),
                clean, 2);
        assertArrayEquals(new float[] {0.1f, 0.2f, 0.7f, 0.8f}, kept, "image 0 falls back to its clean pixels");
        assertEquals(1, t.brokenImages);
        assertEquals(3, t.report());
    }

    @Test
    void givenJudgeLogitsWithANan_whenScored_thenThatAnswerIsWrongAndCounted() {
        AttackCommand.Tally t = new AttackCommand.Tally();
        // two images, three classes, both labelled 2; the adversarial row 0 holds a NaN where argmax would read 0
        t.judge(new float[] {0, 0, 1, 0, 0, 1}, new float[] {Float.NaN, 0, 1, 0, 0, 1}, new int[] {2, 2});
        assertEquals(2, t.cleanOk);
        assertEquals(1, t.robust, "the NaN row is no class, so not robust");
        assertEquals(1, t.nonFiniteAnswers);
        assertEquals(3, t.report());
    }

    @Test
    void givenOnlyFiniteValues_whenReported_thenStatusIs0() {
        AttackCommand.Tally t = new AttackCommand.Tally();
        t.keepFinite(outcome(new float[] {0.5f, 0.6f}, new GradientCounts(2, 0, 1)), new float[] {0.1f, 0.2f}, 2);
        t.judge(new float[] {1, 0, 0, 1}, new float[] {0, 1, 0, 1}, new int[] {0, 1});
        assertEquals(0, t.brokenImages + t.nonFiniteAnswers);
        assertEquals(0, t.report());
    }

    @Test
    void givenANonFiniteGradientRow_whenReported_thenStatusIs3() {
        AttackCommand.Tally t = new AttackCommand.Tally();
        t.keepFinite(outcome(new float[] {0.5f, 0.6f}, new GradientCounts(2, 1, 0)), new float[] {0.1f, 0.2f}, 2);
        assertEquals(3, t.report());
    }
}
