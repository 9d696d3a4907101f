package org.lustra.eval.worst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.eval.CellInfo;
import org.lustra.eval.Experiment;
import org.lustra.eval.Manifest;
import org.lustra.eval.PairedRows;
import org.lustra.eval.RunDirectory;
import org.lustra.eval.SampleRecord;
import org.lustra.util.LustraException;

/** The worst case over the cells of several run folders, per defence and budget and per image. */
class CrossRunWorstTest {
    private static final String NA_8 = "disco|pgd-linf-0.0314|nonadaptive";
    private static final String NA_01 = "disco|pgd-linf-0.1000|nonadaptive";
    private static final String A_8 = "disco|pgd-linf-0.0314|adaptive";
    private static final String A_01 = "disco|pgd-linf-0.1000|adaptive";

    @TempDir
    Path tmp;

    /** A run folder of defence disco under PGD at 8/255 and 0.1 in {@code mode}, its journal {@code cells}. */
    private Path run(String name, String subset, String mode, Map<String, boolean[]> cells, boolean nonFinite)
            throws Exception {
        return run(name, subset, mode, "disco", "disco", cells, nonFinite);
    }

    /** As above, the defence given by its config {@code spec} and the {@code purifier} name it ran under. */
    private Path run(String name, String subset, String mode, String spec, String purifier,
            Map<String, boolean[]> cells, boolean nonFinite) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Experiment exp = Experiment.builder(name, "classifier-digits").optSubset(subset).optImages(4)
                .optProfile("quick").optSeeds(1L).optDefenses(spec).optModes(mode)
                .optAttacks(Experiment.AttackConfig.builder("pgd").optNorm("linf").optEps(0.0313725, 0.1).build())
                .build();
        Map<String, CellInfo> infos = new LinkedHashMap<>();
        for (Experiment.Cell c : exp.cells()) {
            infos.put(c.id(), new CellInfo(spec, c.attack().id(), mode, mode.equals("adaptive") ? "EXACT through "
                    + purifier : "EXACT on the classifier alone", purifier + " -> classifier-digits", "linf"));
        }
        new RunDirectory(dir).writeManifest(new Manifest(exp, "2026-12-03", "abc", Map.of(), infos, 4,
                "classifier-digits", List.of()));
        List<String> lines = new ArrayList<>();
        cells.forEach((id, robust) -> {
            for (int i = 0; i < robust.length; i++) {
                lines.add(RunDirectory.line(record(id, i, robust[i], nonFinite)));
            }
        });
        Files.writeString(dir.resolve(RunDirectory.SAMPLES), String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return dir;
    }

    private static SampleRecord record(String cell, int index, boolean robust, boolean nonFinite) {
        return new SampleRecord(1, cell, 0, index, 3, 3, robust ? 3 : 4, true, robust, null, 1, 0.03, 1.0, 30.0, 0.9,
                null, 4.0, 10, robust, nonFinite, null, 40L, 0L, 0L, null);
    }

    private Path adaptive(Map<String, boolean[]> cells) throws Exception {
        return run("strong", "digits-holdout~shuffled", "adaptive", cells, false);
    }

    private Path nonAdaptive(Map<String, boolean[]> cells) throws Exception {
        return run("na", "digits-holdout~shuffled", "nonadaptive", cells, false);
    }

    @Test
    void givenAnAdaptiveAndANonAdaptiveRunFoolingDifferentImages_whenCombined_thenOnlyImagesSurvivingBothCount()
            throws Exception {
        Path a = adaptive(Map.of(A_8, new boolean[] {true, true, false, true}));
        Path na = nonAdaptive(Map.of(NA_8, new boolean[] {true, false, true, true}));

        CrossRunWorst.Result r = CrossRunWorst.of(List.of(a, na));

        assertEquals(1, r.groups().size(), "one defence, one budget");
        CrossRunWorst.Group g = r.groups().get(0);
        assertEquals(new Threat("linf", 0.0314), g.threat());
        assertEquals(new WorstCase(4, 2, 2, 2), g.worst());
        assertEquals(List.of(1, 1), g.members().stream().map(CrossRunWorst.Member::fooledOnlyHere).toList());
        assertEquals(List.of(3, 3), g.members().stream().map(CrossRunWorst.Member::robustOnShared).toList());
    }

    @Test
    void givenTwoBudgets_whenCombined_thenEachIsItsOwnRow() throws Exception {
        Path a = adaptive(Map.of(A_8, new boolean[] {true, true, true, true}, A_01,
            new boolean[] {false, true, true, true}));
        Path na = nonAdaptive(Map.of(NA_8, new boolean[] {true, true, true, true}, NA_01,
            new boolean[] {true, false, true, true}));

        List<CrossRunWorst.Group> groups = CrossRunWorst.of(List.of(a, na)).groups();

        assertEquals(List.of(new Threat("linf", 0.0314), new Threat("linf", 0.1)),
                groups.stream().map(CrossRunWorst.Group::threat).toList());
        assertEquals(4, groups.get(0).worst().majority());
        assertEquals(2, groups.get(1).worst().majority());
    }

    @Test
    void givenAnUnfinishedCell_whenCombined_thenTheRowCountsOnlyTheImagesEveryCellHas() throws Exception {
        Path a = adaptive(Map.of(A_8, new boolean[] {true, false}));
        Path na = nonAdaptive(Map.of(NA_8, new boolean[] {true, true, false, false}));

        CrossRunWorst.Group g = CrossRunWorst.of(List.of(a, na)).groups().get(0);

        assertEquals(new WorstCase(2, 1, 1, 1), g.worst(), "images 2 and 3 are not in the adaptive cell yet");
        assertEquals(List.of(2, 4), g.members().stream().map(CrossRunWorst.Member::images).toList());
    }

    @Test
    void givenTwoSpecsThatRanAsOneDefence_whenCombined_thenTheyShareARowUnderThePurifiersName() throws Exception {
        String spelt = "hetero:tl0.2:ts0.05";
        Path a = run("strong", "digits-holdout~shuffled", "adaptive", spelt, "hetero(tl=0.20 ts=0.05)",
                Map.of(spelt + "|pgd-linf-0.0314|adaptive", new boolean[] {true, false}), false);
        Path na = run("na", "digits-holdout~shuffled", "nonadaptive", "hetero", "hetero(tl=0.20 ts=0.05)",
                Map.of("hetero|pgd-linf-0.0314|nonadaptive", new boolean[] {false, true}), false);

        List<CrossRunWorst.Group> groups = CrossRunWorst.of(List.of(a, na)).groups();

        assertEquals(1, groups.size());
        assertEquals("hetero(tl=0.20 ts=0.05)", groups.get(0).defence());
        assertEquals(List.of(spelt, "hetero"), groups.get(0).specs());
        assertEquals(0, groups.get(0).worst().majority());
    }

    @Test
    void givenOneSpecThatRanAsTwoDefences_whenCombined_thenEachHasItsOwnRow() throws Exception {
        Path before = run("before", "digits-holdout~shuffled", "nonadaptive", "hetero", "hetero(ts=0.10)",
                Map.of("hetero|pgd-linf-0.0314|nonadaptive", new boolean[] {true}), false);
        Path after = run("after", "digits-holdout~shuffled", "nonadaptive", "hetero", "hetero(ts=0.05)",
                Map.of("hetero|pgd-linf-0.0314|nonadaptive", new boolean[] {false}), false);

        List<CrossRunWorst.Group> groups = CrossRunWorst.of(List.of(before, after)).groups();

        assertEquals(List.of("hetero(ts=0.10)", "hetero(ts=0.05)"), groups.stream().map(CrossRunWorst.Group::defence)
                .toList(), "a changed default is another defence");
    }

    @Test
    void givenTwoDefencesUnderOneBudget_whenCombined_thenTheyAreComparedOnTheImagesBothHave() throws Exception {
        Path disco = adaptive(Map.of(A_8, new boolean[] {true, true, false, true, true}));
        Path maep = run("maep", "digits-holdout~shuffled", "adaptive", "maep", "maep",
                Map.of("maep|pgd-linf-0.0314|adaptive", new boolean[] {false, false, false, true}), false);

        List<PairedRows.Pair> pairs = CrossRunWorst.of(List.of(disco, maep)).comparisons();

        assertEquals(List.of(new PairedRows.Pair("ℓ∞ ε = 0.0314 (8/255)", "disco", "maep", 4, 1, 2, 0, 1)), pairs,
                "image 4 has no maep record");
    }

    @Test
    void givenADefenceOnlyAttackedNonAdaptively_whenCompared_thenItIsNotSetAgainstOneAttackedAdaptively()
            throws Exception {
        Path disco = adaptive(Map.of(A_8, new boolean[] {false, false}));
        Path maep = run("maep", "digits-holdout~shuffled", "nonadaptive", "maep", "maep",
                Map.of("maep|pgd-linf-0.0314|nonadaptive", new boolean[] {true, true}), false);

        CrossRunWorst.Result r = CrossRunWorst.of(List.of(disco, maep));

        assertEquals(List.of(), r.comparisons(), "maep's 100 % is what a transferred attack leaves, an upper bound");
        assertEquals(List.of(true, false), r.groups().stream().map(CrossRunWorst.Group::attackedAdaptively).toList());
    }

    @Test
    void givenRunsOnDifferentSubsets_whenCombined_thenTheErrorNamesBoth() throws Exception {
        Path a = adaptive(Map.of(A_8, new boolean[] {true}));
        Path sorted = run("sorted", "digits-holdout", "nonadaptive", Map.of(NA_8, new boolean[] {true}), false);

        LustraException e = assertThrows(LustraException.class, () -> CrossRunWorst.of(List.of(a, sorted)));

        assertTrue(e.getMessage().contains("digits-holdout~shuffled vs classifier-digits on digits-holdout"),
                e.getMessage());
    }

    @Test
    void givenANonFiniteRecord_whenCombined_thenItIsAnErrorNotAResult() throws Exception {
        Path bad = run("bad", "digits-holdout~shuffled", "adaptive", Map.of(A_8, new boolean[] {true}), true);

        LustraException e = assertThrows(LustraException.class, () -> CrossRunWorst.of(List.of(bad)));

        assertTrue(e.getMessage().contains("non-finite record (" + A_8), e.getMessage());
    }

    @Test
    void givenCellsSharingNoImage_whenCombined_thenTheRowHasNoWorstCase() throws Exception {
        Path a = adaptive(Map.of(A_8, new boolean[] {true}));
        Path other = run("other-seed", "digits-holdout~shuffled", "nonadaptive", Map.of(), false);
        Files.writeString(other.resolve(RunDirectory.SAMPLES), RunDirectory.line(new SampleRecord(2, NA_8, 0, 0, 3, 3,
                3, true, true, null, 1, 0.03, 1.0, 30.0, 0.9, null, 4.0, 10)) + "\n", StandardCharsets.UTF_8);

        CrossRunWorst.Group g = CrossRunWorst.of(List.of(a, other)).groups().get(0);

        assertNull(g.worst(), "seed 1 and seed 2 are different trials of image 0");
        assertTrue(WorstMarkdown.render(CrossRunWorst.of(List.of(a, other)), "lustra eval worst a b")
                .contains("– (no image shared by all cells)"));
    }

    @Test
    void givenACombination_whenRendered_thenTheRowShowsTheWorstCaseAndWhoAloneFooledWhat() throws Exception {
        Path a = adaptive(Map.of(A_8, new boolean[] {true, true, false, true}));
        Path na = nonAdaptive(Map.of(NA_8, new boolean[] {true, false, true, true}));

        String doc = WorstMarkdown.render(CrossRunWorst.of(List.of(a, na)), "lustra eval worst a na");

        assertTrue(doc.contains("| `disco` | ℓ∞ ε = 0.0314 (8/255) | yes | 4 | 2 | 2 = 50.0 % | 15.0 %–85.0 % | 3 by `disco\\"
                + "|pgd-linf-0.0314\\|adaptive` | 1 by `disco\\|pgd-linf-0.0314\\|adaptive` (`" + a + "`); 1 by `disco\\"
                + "|pgd-linf-0.0314\\|nonadaptive` (`" + na + "`) |"), doc);
    }
}
