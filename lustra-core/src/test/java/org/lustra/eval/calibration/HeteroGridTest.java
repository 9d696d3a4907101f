package org.lustra.eval.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.defense.hetero.Ensemble;
import org.lustra.defense.hetero.HeteroOptions;

/** The sweep's candidates: the product of its lists, as explicit specs that parse to what the lists say. */
class HeteroGridTest {

    @Test
    void givenTwoNoisePairsAndTwoThresholds_whenExpanded_thenFourSpecsInListOrder() {
        HeteroGrid g = new HeteroGrid(List.of("0.2/0.05", "0.3/0.1"), List.of("tau0.9", "top0.15"), List.of("minmax"),
                List.of("single3"), List.of("all"), "", List.of(1), List.of(Ensemble.Aggregation.VOTE));
        List<String> specs = g.candidates().stream().map(HeteroGrid.Candidate::spec).toList();
        assertEquals(List.of("hetero:tl0.2:ts0.05:minmax:tau0.9:single3", "hetero:tl0.2:ts0.05:minmax:top0.15:single3",
                "hetero:tl0.3:ts0.1:minmax:tau0.9:single3", "hetero:tl0.3:ts0.1:minmax:top0.15:single3"), specs);
        HeteroOptions o = HeteroOptions.parse(specs.get(3));
        assertEquals(0.3, o.tLarge());
        assertEquals(0.1, o.tSmall());
        assertEquals(0.15, o.mask().level());
    }

    @Test
    void givenEnsembleSizes_whenExpanded_thenSizeOneAppearsOnceAndLargerOnesPerAggregation() {
        HeteroGrid g = new HeteroGrid(List.of("0.2/0.1"), List.of("tau0.9"), List.of("minmax"), List.of("nors"),
                List.of("all"), "stride4", List.of(1, 5), List.of(Ensemble.Aggregation.VOTE, Ensemble.Aggregation.MEAN));
        List<String> ids = g.candidates().stream().map(HeteroGrid.Candidate::id).toList();
        String spec = "hetero:tl0.2:ts0.1:minmax:tau0.9:nors:stride4";
        assertEquals(List.of(spec, spec + " ×5 vote", spec + " ×5 mean"), ids);
        assertEquals(4, HeteroOptions.parse(spec).stride());
    }

    @Test
    void givenThreeStages_whenLeavingOneOut_thenAllAndEachPairRemain() {
        assertEquals(List.of("all", "stages1,2", "stages0,2", "stages0,1"), HeteroGrid.leaveOneOut(3));
        HeteroGrid g = new HeteroGrid(List.of("0.2/0.1"), List.of("tau0.9"), List.of("minmax"), List.of("single3"),
                HeteroGrid.leaveOneOut(3), "", List.of(1), List.of(Ensemble.Aggregation.VOTE));
        assertEquals(List.of(0, 2), HeteroOptions.parse(g.candidates().get(2).spec()).mask().stages());
        assertTrue(HeteroOptions.parse(g.candidates().get(0).spec()).mask().stages().isEmpty(), "all = every stage");
    }

    @Test
    void givenSwappedNoiseLevels_whenExpanded_thenTheMessageNamesTheRule() {
        HeteroGrid g = new HeteroGrid(List.of("0.05/0.2"), List.of("tau0.9"), List.of("minmax"), List.of("single3"),
                List.of("all"), "", List.of(1), List.of(Ensemble.Aggregation.VOTE));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, g::candidates);
        assertTrue(e.getMessage().contains("t_s < t_l"), e.getMessage());
    }

    @Test
    void givenAMalformedPairOrAnEmptyList_whenBuilt_thenIllegalArgument() {
        assertThrows(IllegalArgumentException.class, () -> new HeteroGrid(List.of("0.2-0.05"), List.of("tau0.9"),
                List.of("minmax"), List.of("single3"), List.of("all"), "", List.of(1),
                List.of(Ensemble.Aggregation.VOTE)));
        assertThrows(IllegalArgumentException.class, () -> new HeteroGrid(List.of("0.2/0.05"), List.of(),
                List.of("minmax"), List.of("single3"), List.of("all"), "", List.of(1),
                List.of(Ensemble.Aggregation.VOTE)));
    }
}
