package org.lustra.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;

/**
 * The shipped classifiers load (hash and architecture checked) and reproduce, on the shipped files, the validation
 * accuracy their model cards recorded at the end of training, above a floor near each issue bar.
 */
class ShippedClassifiersTest {

    @ParameterizedTest
    @CsvSource({"classifier-resnet, validation, 0.915", "classifier-vit, validation, 0.875",
        "classifier-cnn2, validation, 0.895", "classifier-digits, digits-holdout, 0.97"})
    void shippedClassifierReproducesItsCard(String name, String split, double floor) {
        ModelCard card = ModelStore.readCard(ModelStore.resolve(name));
        ImageSet set = Subsets.load(split);
        try (NetClassifier c = ModelStore.loadClassifier(name)) {
            double acc = Predictions.accuracy(Predictions.predict(c, set, 250, null), set);
            assertTrue(acc >= floor, name + " accuracy " + acc + " on " + split + " is below " + floor);
            String key = split.equals("validation") ? "validation_accuracy" : "holdout_accuracy";
            assertEquals(card.metrics().get(key), acc, 1e-9, name + " does not reproduce its card's " + key);
        }
    }

    @org.junit.jupiter.api.Test
    void protectedClassifierGetsTheWholeEvaluationSubsetRight() {
        ImageSet eval = Subsets.load("eval512");
        assertEquals(512, eval.size());
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet")) {
            assertEquals(1.0, Predictions.accuracy(Predictions.predict(c, eval, 256, null), eval));
        }
    }
}
