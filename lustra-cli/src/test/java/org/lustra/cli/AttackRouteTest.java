package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@code lustra attack pgd --adaptive} attacks through the defence by the strongest single-graph route it has, and its
 * threat-model line names the route it used.
 */
class AttackRouteTest {
    @Test
    void givenMedianSmoothing_whenAttackedAdaptively_thenTheExactRouteIsUsedAndNamed() {
        CliErrorsTest.Run r = CliErrorsTest.run("attack", "pgd", "--eps", "0.0313725", "--steps", "1", "--images", "2",
                "--defense", "median:3", "--adaptive");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("gradient mode EXACT through the defence"), r.out());
        assertTrue(r.out().contains("gradient rows: 2 (0 non-finite"), "one step on two images: " + r.out());
    }

    @Test
    void givenJpeg_whenAttackedAdaptively_thenBpdaIsUsedAndNamed() {
        CliErrorsTest.Run r = CliErrorsTest.run("attack", "pgd", "--eps", "0.0313725", "--steps", "1", "--images", "2",
                "--defense", "jpeg:75", "--adaptive");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("gradient mode BPDA through the defence"), r.out());
    }
}
