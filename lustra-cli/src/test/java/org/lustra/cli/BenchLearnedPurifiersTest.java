package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.GradientMode;
import org.lustra.defense.learned.LearnedPurifier;
import org.lustra.model.Classifier;

class BenchLearnedPurifiersTest {

    @Test
    void givenTheBench_whenItTimesTheLearnedPurifiers_thenMaepAndDiscoPurifyAndPassAGradientAtFiniteRates() {
        List<String> kinds = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager(); Classifier cls = BenchPipelines.classifier()) {
            NDArray x = m.randomUniform(0, 1, new Shape(2, 1, 28, 28));
            for (Supplier<LearnedPurifier> build : BenchPipelines.learnedPurifiers(1, 28)) {
                try (LearnedPurifier p = build.get()) {
                    kinds.add(p.network().kind());
                    double purify = BenchPipelines.purifyImagesPerSecond(p, x, new BenchTiming(0, 1));
                    double gradient = BenchPipelines.exactGradientImagesPerSecond(new DefendedClassifier(p, cls), x,
                            cls.classes(), new BenchTiming(0, 1));

                    // the rates are n / time, finite whenever the calls return: the gradient itself is checked apart
                    assertTrue(purify > 0 && Double.isFinite(purify), p.name() + " purify: " + purify);
                    assertTrue(gradient > 0 && Double.isFinite(gradient), p.name() + " gradient: " + gradient);
                    float[] g = new DefendedClassifier(p, cls).lossGradient(x, GradientMode.EXACT, 1,
                            z -> z.get(":, 0").neg()).gradient().toFloatArray();
                    double norm = 0;
                    for (float v : g) {
                        assertTrue(Float.isFinite(v), p.name() + ": non-finite gradient entry");
                        norm += (double) v * v;
                    }
                    assertTrue(Math.sqrt(norm) > 1e-6, p.name() + ": the gradient reaches the input, norm "
                            + Math.sqrt(norm));
                    assertTrue(p.name().contains("random weights") || p.name().contains("-fmnist"), p.name());
                }
            }
        }
        assertEquals(List.of("maep", "disco"), kinds);
    }
}
