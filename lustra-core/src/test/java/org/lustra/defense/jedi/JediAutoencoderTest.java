package org.lustra.defense.jedi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.MaskingPurifier;
import org.lustra.defense.learned.MaskTraining;
import org.lustra.defense.sac.PatchBank;
import org.lustra.defense.sac.TinySac;
import org.lustra.defense.sac.TrainingPatches;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.nn.ConvAutoencoder;
import org.lustra.util.LustraException;

class JediAutoencoderTest {
    @TempDir
    Path tmp;

    /** Width 8, one stride-2 level, on 16×16 kernel maps of 5×5 windows, 16 bins, θ = 0.7. */
    static final JediAutoencoder.Config TINY = new JediAutoencoder.Config(new ConvAutoencoder.Config(1, 8, 1), 16, 2,
            16, 0.7);
    static final TrainingPatches DATA = new TrainingPatches(TinySac.images(6, 1), PatchBank.empty(1), 0.2, 0.05, 0.2);

    static JediAutoencoder tiny(long seed) {
        return JediAutoencoder.create(TINY, NDManager.newBaseManager(), seed);
    }

    private static float loss(JediAutoencoder ae, MaskTraining.Examples.Batch b, int n) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(b.inputs(), new Shape(n, 1, 16, 16));
            NDArray y = m.create(b.masks(), new Shape(n, 1, 16, 16));
            return MaskTraining.bce(ae.logits(new ParameterStore(m, false), x, false), y).getFloat();
        }
    }

    /** The cross-entropy of predicting the batch's patch share everywhere: what a net that learnt no place gets. */
    private static double priorLoss(MaskTraining.Examples.Batch b) {
        double p = 0;
        for (float v : b.masks()) {
            p += v;
        }
        p /= b.masks().length;
        return -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
    }

    @Test
    void givenKernelMapsOfPatchedImages_whenATinyAutoencoderTrains_thenItsLossFallsWellBelowThePrior() {
        MaskTraining.Options opt = new MaskTraining.Options(300, 8, 1e-2f, 10, 0f, 3L, 3600, 50);
        try (JediAutoencoder ae = tiny(5)) {
            MaskTraining.Examples.Batch fixed = JediTraining.examples(ae, DATA).draw(16, new SplittableRandom(99));
            float before = loss(ae, fixed, 16);
            MaskTraining.Result r = JediTraining.train(ae, DATA, opt, tmp.resolve("ae"), line -> { });
            float after = loss(ae, fixed, 16);
            String seen = "bce " + before + " -> " + after + ", prior " + priorLoss(fixed);
            // measured (width 4): 0.441 -> 0.219 with a prior of 0.300; a third of the patches are natural crops, whose entropy
            // looks like the image's own, so no kernel map can place them: the floor is well above zero
            assertTrue(Float.isFinite(before) && after < before / 1.8, seen);
            assertTrue(after < 0.8 * priorLoss(fixed), "it learnt where the patches are: " + seen);
            assertEquals(0, r.skippedSteps());
        }
    }

    @Test
    void givenAnInterruptedRun_whenResumed_thenItEndsWithTheWeightsOfAnUninterruptedRun() {
        MaskTraining.Options opt = new MaskTraining.Options(6, 4, 1e-3f, 2, 0.01f, 7L, 3600, 2);
        try (JediAutoencoder whole = tiny(1); JediAutoencoder part = tiny(1); JediAutoencoder resumed = tiny(1)) {
            JediTraining.train(whole, DATA, opt, tmp.resolve("a"), line -> { });
            JediTraining.train(part, DATA, opt, tmp.resolve("b"), line -> { }, 3);
            StringBuilder log = new StringBuilder();
            JediTraining.train(resumed, DATA, opt, tmp.resolve("b"), log::append);
            assertTrue(log.toString().contains("Resuming"), log.toString());
            assertArrayEquals(ModelStore.encode(whole.block()),
                    ModelStore.encode(resumed.block()));
        }
    }

    @Test
    void givenASavedAutoencoder_whenLoadedThroughAJediSpec_thenItsLogitsAreTheSavedOnesAndJediUsesIt() {
        Path dir = tmp.resolve("tiny-jedi");
        try (JediAutoencoder saved = tiny(3); NDManager m = NDManager.newBaseManager();
                DefenseFactory f = new DefenseFactory()) {
            saved.save(new ModelCard("tiny-jedi", "test", null, 0, null, "synthetic", "none", "test", 3, null, 0,
                    null, null, null, null, null, null), dir);
            NDArray maps = m.create(saved.kernelMaps(TinySac.images(2, 5).batch(m, 0, 2).toFloatArray(), 2, 1),
                    new Shape(2, 1, 16, 16));
            try (JediAutoencoder loaded = JediAutoencoder.load(dir.toString())) {
                assertEquals(TINY, loaded.config());
                assertArrayEquals(saved.logits(new ParameterStore(m, false), maps, false).toFloatArray(),
                        loaded.logits(new ParameterStore(m, false), maps, false).toFloatArray(), 0f);
            }
            Jedi jedi = assertInstanceOf(Jedi.class, f.create(DefenseSpec.parse("jedi:" + dir + ":tau0.4")));
            assertTrue(jedi.usesAutoencoder() && jedi.name().startsWith("jedi(autoencoder"), jedi.name());
            assertEquals(0.4, jedi.options().tau());
            NDArray x = TinySac.images(2, 5).batch(m, 0, 2);
            MaskingPurifier.Masked r = jedi.purifyMasked(x, 0);
            assertEquals(new Shape(2, 1, 16, 16), r.mask().getShape());
        }
    }

    @Test
    void givenTheAutoencoderVariant_whenASpecSetsAMorphologyOption_thenOneSentenceSaysToAddMorph() {
        Path dir = tmp.resolve("tiny-jedi2");
        try (JediAutoencoder saved = tiny(3)) {
            saved.save(new ModelCard("tiny-jedi2", "test", null, 0, null, "synthetic", "none", "test", 3, null, 0,
                    null, null, null, null, null, null), dir);
        }
        LustraException e = assertThrows(LustraException.class, () -> DefenseSpec.parse("jedi:" + dir + ":theta0.5"));
        assertTrue(e.getMessage().contains("add :morph"), e.getMessage());
    }
}
