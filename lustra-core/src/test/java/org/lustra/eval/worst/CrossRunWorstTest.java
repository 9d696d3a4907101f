package org.lustra.eval.worst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.eval.Experiment;
import org.lustra.eval.RunDirectory;

/** The worst case over the cells of several run folders, per defence and budget and per image. */
class CrossRunWorstTest {
    static final String NA_8 = "disco|pgd-linf-0.0314|nonadaptive";
    static final String NA_01 = "disco|pgd-linf-0.1000|nonadaptive";
    static final String A_8 = "disco|pgd-linf-0.0314|adaptive";
    static final String A_01 = "disco|pgd-linf-0.1000|adaptive";

    @TempDir
    Path tmp;

    private static RunFolder adaptive() {
        return new RunFolder("strong");
    }

    private static RunFolder nonAdaptive() {
        return new RunFolder("na").mode("nonadaptive");
    }

    private static List<Integer> fooledOnlyHere(CrossRunWorst.Group g) {
        return g.members().stream().map(CrossRunWorst.Member::fooledOnlyHere).toList();
    }

    @Test
    void givenAnAdaptiveAndANonAdaptiveRunFoolingDifferentImages_whenCombined_thenOnlyImagesSurvivingBothCount()
            throws Exception {
        Path a = adaptive().cell(A_8, true, true, false, true).write(tmp);
        Path na = nonAdaptive().cell(NA_8, true, false, true, true).write(tmp);

        CrossRunWorst.Result r = CrossRunWorst.of(List.of(a, na));

        assertEquals(1, r.groups().size(), "one defence, one budget");
        CrossRunWorst.Group g = r.groups().get(0);
        assertEquals(new Threat("linf", 0.0314), g.threat());
        assertEquals(new WorstCase(4, 2, 2, 2), g.worst());
        assertEquals(List.of(1, 1), fooledOnlyHere(g));
        assertEquals(List.of(3, 3), g.members().stream().map(CrossRunWorst.Member::robustOnShared).toList());
    }

    @Test
    void givenThreeCells_whenCombined_thenAnImageTwoOfThemFoolIsNobodysAlone() throws Exception {
        Path a = adaptive().cell(A_8, false, false, true, true).write(tmp);
        Path na = nonAdaptive().cell(NA_8, false, true, true, true).write(tmp);
        Path other = new RunFolder("other").mode("nonadaptive").profile("paper")
                .cell(NA_8, true, true, true, false).write(tmp);

        CrossRunWorst.Group g = CrossRunWorst.of(List.of(a, na, other)).groups().get(0);

        assertEquals(new WorstCase(4, 1, 1, 1), g.worst());
        assertEquals(List.of(1, 0, 1), fooledOnlyHere(g), "image 0: two cells; image 1: the adaptive one only");
    }

    @Test
    void givenOneImageUnderTwoRunSeeds_whenCombined_thenEachSeedIsATryAndOneFoolingSeedFoolsTheImage()
            throws Exception {
        Path a = adaptive().cell(A_8, 1, true, true).cell(A_8, 2, true, false).write(tmp);

        CrossRunWorst.Group g = CrossRunWorst.of(List.of(a)).groups().get(0);

        assertEquals(new WorstCase(2, 1, 1, 1), g.worst(), "2 images, not 4: a seed is another try, not an image");
        assertEquals(2, g.members().get(0).seeds());
    }

    @Test
    void givenTwoBudgets_whenCombined_thenEachIsItsOwnRow() throws Exception {
        Path a = adaptive().cell(A_8, true, true, true, true).cell(A_01, false, true, true, true).write(tmp);
        Path na = nonAdaptive().cell(NA_8, true, true, true, true).cell(NA_01, true, false, true, true).write(tmp);

        List<CrossRunWorst.Group> groups = CrossRunWorst.of(List.of(a, na)).groups();

        assertEquals(List.of(new Threat("linf", 0.0314), new Threat("linf", 0.1)),
                groups.stream().map(CrossRunWorst.Group::threat).toList());
        assertEquals(4, groups.get(0).worst().majority());
        assertEquals(2, groups.get(1).worst().majority());
    }

    @Test
    void givenTwoPatchAttacksOfOneSize_whenCombined_thenTheyShareARow() throws Exception {
        Path patches = adaptive().attacks(Experiment.AttackConfig.builder("lavan").optFraction(0.05).build(),
                Experiment.AttackConfig.builder("gdpa").optFraction(0.05).build())
                .cell("disco|lavan-0.050|adaptive", true, false).cell("disco|gdpa-0.050|adaptive", false, false)
                .write(tmp);

        List<CrossRunWorst.Group> groups = CrossRunWorst.of(List.of(patches)).groups();

        assertEquals(1, groups.size());
        assertEquals("patch 5.0 % of the image", groups.get(0).threat().label());
        assertEquals(0, groups.get(0).worst().majority());
    }

    @Test
    void givenAnUnfinishedCell_whenCombined_thenTheRowCountsOnlyTheImagesEveryCellHas() throws Exception {
        Path a = adaptive().cell(A_8, true, false).write(tmp);
        Path na = nonAdaptive().cell(NA_8, true, true, false, false).write(tmp);

        CrossRunWorst.Group g = CrossRunWorst.of(List.of(a, na)).groups().get(0);

        assertEquals(new WorstCase(2, 1, 1, 1), g.worst(), "images 2 and 3 are not in the adaptive cell yet");
        assertEquals(List.of(2, 4), g.members().stream().map(CrossRunWorst.Member::images).toList());
    }

    @Test
    void givenTwoSpecsThatRanAsOneDefence_whenCombined_thenTheyShareARowUnderThePurifiersName() throws Exception {
        String spelt = "hetero:tl0.2:ts0.05";
        Path a = adaptive().defence(spelt, "hetero(tl=0.20 ts=0.05)")
                .cell(spelt + "|pgd-linf-0.0314|adaptive", true, false).write(tmp);
        Path na = nonAdaptive().defence("hetero", "hetero(tl=0.20 ts=0.05)")
                .cell("hetero|pgd-linf-0.0314|nonadaptive", false, true).write(tmp);

        List<CrossRunWorst.Group> groups = CrossRunWorst.of(List.of(a, na)).groups();

        assertEquals(1, groups.size());
        assertEquals("hetero(tl=0.20 ts=0.05)", groups.get(0).defence());
        assertEquals(List.of(spelt, "hetero"), groups.get(0).specs());
        assertEquals(0, groups.get(0).worst().majority());
    }

    @Test
    void givenOneSpecThatRanAsTwoDefences_whenCombined_thenEachHasItsOwnRow() throws Exception {
        Path before = new RunFolder("before").mode("nonadaptive").defence("hetero", "hetero(ts=0.10)")
                .cell("hetero|pgd-linf-0.0314|nonadaptive", true).write(tmp);
        Path after = new RunFolder("after").mode("nonadaptive").defence("hetero", "hetero(ts=0.05)")
                .cell("hetero|pgd-linf-0.0314|nonadaptive", false).write(tmp);

        List<CrossRunWorst.Group> groups = CrossRunWorst.of(List.of(before, after)).groups();

        assertEquals(List.of("hetero(ts=0.10)", "hetero(ts=0.05)"), groups.stream().map(CrossRunWorst.Group::defence)
                .toList(), "a changed default is another defence");
    }

    @Test
    void givenCellsSharingNoImage_whenCombined_thenTheRowHasNoWorstCase() throws Exception {
        Path a = adaptive().cell(A_8, true).write(tmp);
        Path later = nonAdaptive().write(tmp);
        Files.writeString(later.resolve(RunDirectory.SAMPLES), RunDirectory.line(RunFolder.record(NA_8, 1, 3, true,
                false)) + "\n", StandardCharsets.UTF_8);

        CrossRunWorst.Result r = CrossRunWorst.of(List.of(a, later));

        assertNull(r.groups().get(0).worst(), "image 0 against image 3");
        assertTrue(WorstMarkdown.render(r, "lustra eval worst a later").contains("– (no image shared by all cells)"));
    }

    @Test
    void givenACombination_whenRendered_thenTheRowShowsTheWorstCaseAndWhoAloneFooledWhat() throws Exception {
        Path a = adaptive().cell(A_8, true, true, false, true).write(tmp);
        Path na = nonAdaptive().cell(NA_8, true, false, true, true).write(tmp);

        String doc = WorstMarkdown.render(CrossRunWorst.of(List.of(a, na)), "lustra eval worst a na");

        assertTrue(doc.contains("| `disco` | ℓ∞ ε = 0.0314 (8/255) | yes | 4 | 2 | 2 = 50.0 % | 15.0 %–85.0 % | 3 by "
                + "`disco\\|pgd-linf-0.0314\\|adaptive` | 1 by `disco\\|pgd-linf-0.0314\\|adaptive` (`" + a + "`); 1 by "
                + "`disco\\|pgd-linf-0.0314\\|nonadaptive` (`" + na + "`) |"), doc);
    }
}
