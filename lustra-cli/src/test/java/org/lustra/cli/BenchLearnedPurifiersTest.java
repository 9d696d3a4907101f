package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.defense.learned.LearnedPurifier;

class BenchLearnedPurifiersTest {

    @Test
    void givenTheBench_whenItBuildsTheLearnedPurifiers_thenMaepAndDiscoEachPurifyABatchAtAMeasuredRate() {
        List<LearnedPurifier> purifiers = BenchPipelines.learnedPurifiers(1, 28);

        assertEquals(List.of("maep", "disco"), purifiers.stream().map(p -> p.network().kind()).toList());
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomUniform(0, 1, new Shape(2, 1, 28, 28));
            for (LearnedPurifier p : purifiers) {
                try (p) {
                    double rate = BenchPipelines.purifyImagesPerSecond(p, x, new BenchTiming(0, 1));
                    assertTrue(rate > 0 && Double.isFinite(rate), p.name() + ": " + rate);
                }
            }
        }
    }
}
