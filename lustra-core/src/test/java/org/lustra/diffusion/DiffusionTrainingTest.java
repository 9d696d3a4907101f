package org.lustra.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lustra.util.LustraException;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.data.ImageSet;
import org.lustra.model.ModelStore;

class DiffusionTrainingTest {
    @TempDir
    Path tmp;

    static final List<String> CLASSES = List.of("alpha", "beta", "gamma");
    static final DiffusionConfig TINY = new DiffusionConfig(1, 8, new int[] {8, 16}, 2, 4,
            new Captions(CLASSES).vocabulary(), 12, 8, 1, 100, 1e-3, 0.05);
    static final DiffusionTraining.Options OPT = new DiffusionTraining.Options(6, 4, 1e-3f, 2, 0.9f, 0.5, true, 5L,
            3600, Captions.Grammar.V1, 1f);

    static ImageSet images(int n) {
        SplittableRandom r = new SplittableRandom(1);
        byte[] px = new byte[n * 64];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            for (int p = 0; p < 64; p++) {
                px[i * 64 + p] = (byte) (p / 8 == 2 * y[i] + 1 ? 200 : r.nextInt(40));
            }
        }
        return new ImageSet(px, y, 1, 8, 8);
    }

    @Test
    void interruptedTrainingResumesToIdenticalWeights() {
        ImageSet data = images(30);
        DiffusionTraining.Result whole = DiffusionTraining.train(TINY, data, CLASSES, OPT, tmp.resolve("a"), s -> { });
        DiffusionTraining.Result part = DiffusionTraining.train(TINY, data, CLASSES, OPT, tmp.resolve("b"), s -> { },
                3);
        part.model().close();
        StringBuilder log = new StringBuilder();
        DiffusionTraining.Result resumed = DiffusionTraining.train(TINY, data, CLASSES, OPT, tmp.resolve("b"),
                log::append);
        try {
            assertTrue(log.toString().contains("Resuming"), log.toString());
            assertArrayEquals(ModelStore.encode(whole.model().net()), ModelStore.encode(resumed.model().net()));
            assertEquals(6, whole.steps());
            // one record at the last step (they come every 500 steps and at the end), also after the resume
            assertEquals(1, whole.history().size(), whole.history().toString());
            assertEquals(6, ((Number) whole.history().get(0).get("step")).intValue());
            assertEquals(1, resumed.history().size(), resumed.history().toString());
        } finally {
            whole.model().close();
            resumed.model().close();
        }
    }

    @Test
    void aSnapshotOfAFinishedRunHasItsEmaWeightsAndAMismatchedRecipeIsRefused() {
        // given a finished tiny run (its last checkpoint holds the EMA that the result's weights were set to)
        ImageSet data = images(30);
        DiffusionTraining.Result done = DiffusionTraining.train(TINY, data, CLASSES, OPT, tmp.resolve("s"), s -> { });
        // when the checkpoint is read back as a snapshot
        DiffusionTraining.Result snap = DiffusionTraining.snapshot(TINY, CLASSES, OPT, tmp.resolve("s"));
        try {
            // then it is the finished model, at the checkpoint's step
            assertArrayEquals(ModelStore.encode(done.model().net()), ModelStore.encode(snap.model().net()));
            assertEquals(6, snap.steps());
        } finally {
            done.model().close();
            snap.model().close();
        }
        // and a snapshot asked with another recipe, or of an empty folder, is refused with a sentence
        DiffusionTraining.Options otherLr = new DiffusionTraining.Options(6, 4, 2e-3f, 2, 0.9f, 0.5, true, 5L, 3600,
                Captions.Grammar.V1, 1f);
        LustraException e = assertThrows(LustraException.class,
                () -> DiffusionTraining.snapshot(TINY, CLASSES, otherLr, tmp.resolve("s")));
        assertTrue(e.getMessage().contains("different settings"), e.getMessage());
        e = assertThrows(LustraException.class, () -> DiffusionTraining.snapshot(TINY, CLASSES, OPT, tmp.resolve("x")));
        assertTrue(e.getMessage().contains("No checkpoint"), e.getMessage());
    }

    @Test
    void aResumedRunMayChangeItsLengthAndRecordsIt() {
        ImageSet data = images(30);
        DiffusionTraining.train(TINY, data, CLASSES, OPT, tmp.resolve("c"), s -> { }, 3).model().close();
        DiffusionTraining.Options shorter = new DiffusionTraining.Options(3, 4, 1e-3f, 2, 0.9f, 0.5, true, 5L, 3600,
            Captions.Grammar.V1, 1f);
        LustraException late = assertThrows(LustraException.class,
                () -> DiffusionTraining.train(TINY, data, CLASSES, shorter, tmp.resolve("c"), s -> { }));
        assertTrue(late.getMessage().contains("step 3"), late.getMessage());
        DiffusionTraining.Options longer = new DiffusionTraining.Options(5, 4, 1e-3f, 2, 0.9f, 0.5, true, 5L, 3600,
            Captions.Grammar.V1, 1f);
        DiffusionTraining.Result r = DiffusionTraining.train(TINY, data, CLASSES, longer, tmp.resolve("c"), s -> { });
        try {
            assertEquals(5, r.steps());
            assertTrue(r.history().stream().anyMatch(h -> String.valueOf(h.get("schedule_change"))
                    .equals("total steps 6 -> 5; cosine re-fitted from this step")), r.history().toString());
        } finally {
            r.model().close();
        }
        DiffusionTraining.Options otherLr = new DiffusionTraining.Options(9, 4, 2e-3f, 2, 0.9f, 0.5, true, 5L, 3600,
            Captions.Grammar.V1, 1f);
        assertThrows(LustraException.class,
                () -> DiffusionTraining.train(TINY, data, CLASSES, otherLr, tmp.resolve("c"), s -> { }));
    }

    @Test
    void guidedPredictionEqualsTheTwoSeparateCalls() {
        try (NDManager m = NDManager.newBaseManager()) {
            DiffusionModel model = DiffusionModel.create(TINY, m.newSubManager(), 3);
            // give the zero-initialised output layer some weight so the check is not 0 == 0
            for (var p : model.net().getParameters()) {
                if (p.getKey().endsWith("out_weight")) {
                    NDArray w = p.getValue().getArray();
                    w.set(new NoiseSource(1).normal(m, w.getShape()).mul(0.1f).toFloatArray());
                }
            }
            NDArray xt = new NoiseSource(2).normal(m, new Shape(2, 1, 8, 8));
            NDArray mask = DiffusionModel.fullMask(xt);
            NDArray masked = m.zeros(xt.getShape());
            int[] t = {10, 60};
            NDArray cond = model.context(m, List.of("a photo of a beta", "a clean gamma"), false);
            NDArray unc = model.context(m, List.of("", ""), false);
            NDArray guided = model.predictNoiseGuided(xt, t, mask, masked, cond, unc, 3.0);
            NDArray ec = model.predictNoise(xt, t, mask, masked, cond, false);
            NDArray eu = model.predictNoise(xt, t, mask, masked, unc, false);
            assertArrayEquals(NoiseSchedule.guide(ec, eu, 3.0).toFloatArray(), guided.toFloatArray(), 1e-5f);
            assertTrue(ec.sub(eu).abs().sum().getFloat() > 0, "the prompt changes the prediction");
            model.close();
        }
    }

    @Test
    void masksCoverTheirTargetAndCaptionsFollowTheGrammar() {
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < 200; i++) {
            double f = Masks.fraction(r);
            assertTrue(f >= 0.02 && f <= 0.40);
            float[] m = Masks.random(28, 28, f, r);
            double covered = 0;
            for (float v : m) {
                covered += v;
            }
            covered /= m.length;
            assertTrue(Math.abs(covered - f) < 0.08, "mask covers " + covered + " for target " + f);
        }
        Captions c = new Captions(CLASSES);
        int empty = 0;
        for (int i = 0; i < 2000; i++) {
            String s = c.sample(1, i % 2 == 0, r);
            if (s.isEmpty()) {
                empty++;
            } else {
                assertTrue(s.contains("beta"), s);
                assertEquals(i % 2 == 0, s.contains("with a"), s);
            }
        }
        assertEquals(0.15, empty / 2000.0, 0.03);
        assertEquals("a photo of a gamma", c.classPrompt(2));
    }
}
