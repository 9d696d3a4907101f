package org.lustra.eval.table1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.lustra.eval.table1.RunFolders.randomised;
import static org.lustra.eval.table1.RunFolders.record;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.lustra.eval.SampleRecord;
import org.lustra.eval.worst.ImageKey;
import org.lustra.eval.worst.WorstCase;

/** The per-image worst case over every attack tried on a defence: robust only if robust under each of them. */
class Table1WorstCaseTest {
    private static final String LAVAN = "jpeg:75|lavan-0.050|adaptive";
    private static final String ADVP = "jpeg:75|advp-0.050|adaptive";
    private static final String EVADE = "jpeg:75|evade-lavan-0.050|adaptive";
    private static final String LAVAN_NA = "jpeg:75|lavan-0.050|nonadaptive";

    private final Map<String, Map<ImageKey, SampleRecord>> records = new HashMap<>();

    private void cell(String id, boolean... robust) {
        for (int i = 0; i < robust.length; i++) {
            put(record(id, i, robust[i]));
        }
    }

    private void put(SampleRecord r) {
        records.computeIfAbsent(r.cell(), k -> new HashMap<>()).put(new ImageKey(r.seed(), r.index()), r);
    }

    private Optional<WorstCase> worst(List<String> optional) {
        return Table1WorstCase.of("jpeg:75", List.of("lavan-0.050", "advp-0.050"), optional, records);
    }

    @Test
    void givenImagesEachFooledByADifferentAttack_whenTheWorstCaseIsTaken_thenOnlyImagesSurvivingBothCount() {
        cell(LAVAN, true, true, false, true);
        cell(ADVP, true, false, true, true);

        assertEquals(Optional.of(new WorstCase(4, 2, 2, 2)), worst(List.of()));
    }

    @Test
    void givenARequiredAttackNotRunAgainstTheDefence_whenTheWorstCaseIsTaken_thenThereIsNone() {
        cell(LAVAN, true, true, true, true);

        assertEquals(Optional.empty(), worst(List.of()));
    }

    @Test
    void givenAnOptionalAttackWhoseCellExists_whenTheWorstCaseIsTaken_thenItsFooledImagesCountAsFooled() {
        cell(LAVAN, true, true, false, true);
        cell(ADVP, true, false, true, true);
        cell(EVADE, false, true, true, true);

        assertEquals(Optional.of(new WorstCase(4, 1, 1, 1)), worst(List.of("evade-lavan-0.050")));
    }

    @Test
    void givenAnOptionalAttackWithoutACell_whenTheWorstCaseIsTaken_thenTheRequiredAttacksAloneDecide() {
        cell(LAVAN, true, true, false, true);
        cell(ADVP, true, false, true, true);

        assertEquals(Optional.of(new WorstCase(4, 2, 2, 2)), worst(List.of("evade-lavan-0.050")));
    }

    @Test
    void givenANonAdaptiveCellThatFoolsAnImageTheAdaptiveOnesMissed_whenTheWorstCaseIsTaken_thenThatImageIsFooled() {
        cell(LAVAN, true, true, false, true);
        cell(ADVP, true, true, true, true);
        cell(LAVAN_NA, true, false, true, true, false);

        assertEquals(Optional.of(new WorstCase(4, 2, 2, 2)), worst(List.of()));
    }

    @Test
    void givenANonAdaptiveCellOnFewerImages_whenTheWorstCaseIsTaken_thenItDecidesOnlyItsOwnImages() {
        cell(LAVAN, true, true, true, true);
        cell(ADVP, true, true, true, true);
        cell(LAVAN_NA, true, false);

        assertEquals(Optional.of(new WorstCase(4, 3, 3, 3)), worst(List.of()));
    }

    @Test
    void givenOnlyANonAdaptiveCellOfARequiredAttack_whenTheWorstCaseIsTaken_thenThereIsNone() {
        cell(LAVAN, true, true, true, true);
        cell("jpeg:75|advp-0.050|nonadaptive", true, true, true, true);

        assertEquals(Optional.empty(), worst(List.of()));
    }

    @Test
    void givenCellsOfDifferentImageCounts_whenTheWorstCaseIsTaken_thenOnlyTheSharedImagesAreCounted() {
        cell(LAVAN, true, true, true, true);
        cell(ADVP, true, false);

        assertEquals(Optional.of(new WorstCase(2, 1, 1, 1)), worst(List.of()));
    }

    @Test
    void givenARandomisedDefence_whenTheWorstCaseIsTaken_thenSingleAndAnyOfKAreEachTheWorstOverAttacks() {
        // image 0: robust everywhere, but one of K draws fooled under AdvP; image 1: first draw fooled under LaVAN
        put(randomised(LAVAN, 0, true, true, false));
        put(randomised(ADVP, 0, true, true, true));
        put(randomised(LAVAN, 1, false, true, false));
        put(randomised(ADVP, 1, true, true, false));

        assertEquals(Optional.of(new WorstCase(2, 1, 2, 1)), worst(List.of()));
    }

    @Test
    void givenTheUndefendedClassifier_whenItsCellsAreNamed_thenTheirModeIsNone() {
        assertEquals("none|lavan-0.050|none", Table1WorstCase.cellId("none", "lavan-0.050", "adaptive"));
        assertEquals("jpeg:75|lavan-0.050|adaptive", Table1WorstCase.cellId("jpeg:75", "lavan-0.050", "adaptive"));
    }
}
