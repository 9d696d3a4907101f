package org.lustra.defense.diffender;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.model.Classifier;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.util.LustraException;

/** Prompt tuning on the tiny random diffusion model and a tiny convolutional "classifier" with two stages. */
class PromptTuningTest {
    @TempDir
    java.nio.file.Path tmp;

    /** Two fixed random conv stages and a linear head: enough for the feature loss d and an accuracy. */
    static Classifier tinyClassifier(NDManager m) {
        NDArray w1 = new NoiseSource(4).normal(m, new Shape(4, 1, 3, 3)).mul(0.3f);
        NDArray w2 = new NoiseSource(5).normal(m, new Shape(6, 4, 3, 3)).mul(0.3f);
        NDArray head = new NoiseSource(6).normal(m, new Shape(6, 2)).mul(0.3f);
        return new Classifier() {
            @Override
            public String name() {
                return "tiny";
            }

            @Override
            public int channels() {
                return 1;
            }

            @Override
            public int size() {
                return 8;
            }

            @Override
            public List<String> classNames() {
                return List.of("alpha", "beta");
            }

            @Override
            public Output forward(NDArray x) {
                NDArray a = ai.djl.nn.convolutional.Conv2d.conv2d(x, w1, null, new Shape(1, 1), new Shape(1, 1),
                        new Shape(1, 1), 1).singletonOrThrow().tanh();
                NDArray b = ai.djl.nn.convolutional.Conv2d.conv2d(a, w2, null, new Shape(2, 2), new Shape(1, 1),
                        new Shape(1, 1), 1).singletonOrThrow().tanh();
                NDArray logits = b.mean(new int[] {3}).mean(new int[] {2}).matMul(head);
                return new Output(logits, List.of(a, b));
            }

            @Override
            public void close() {}
        };
    }

    /** Images with a bright 3×3 "patch" at a random place, their clean versions and the true masks. */
    static PromptTuning.PatchedSet patched(NDManager m, int n, long seed) {
        float[] clean = DiffenderTest.images(m, n, seed).toFloatArray();
        float[] adv = clean.clone();
        float[] masks = new float[n * 64];
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int y0 = r.nextInt(6);
            int x0 = r.nextInt(6);
            for (int dy = 0; dy < 3; dy++) {
                for (int dx = 0; dx < 3; dx++) {
                    int p = (y0 + dy) * 8 + x0 + dx;
                    adv[i * 64 + p] = (dx + dy) % 2 == 0 ? 1f : 0f;
                    masks[i * 64 + p] = 1f;
                }
            }
            labels[i] = i % 2;
        }
        return new PromptTuning.PatchedSet(adv, clean, masks, labels);
    }

    static TuningOptions quick() {
        return TuningOptions.builder(3).tokens(4).epochs(2).batch(2).learningRate(0.01).init(null, null)
                .restoreSteps(3).validateEvery(1).seeds(3, 4).build();
    }

    /** Two shipped evaluation images with a 6×6 checkerboard patch at different places. */
    static PromptTuning.PatchedSet shippedPatched(NDManager m) {
        ImageSet eval = Subsets.load("eval512");
        float[] clean = eval.batch(m, 0, 2).toFloatArray();
        float[] adv = clean.clone();
        float[] masks = new float[2 * 784];
        int[][] at = {{4, 5}, {15, 12}};
        for (int i = 0; i < 2; i++) {
            for (int dy = 0; dy < 6; dy++) {
                for (int dx = 0; dx < 6; dx++) {
                    int p = (at[i][0] + dy) * 28 + at[i][1] + dx;
                    adv[i * 784 + p] = (dx + dy) % 2 == 0 ? 1f : 0f;
                    masks[i * 784 + p] = 1f;
                }
            }
        }
        return new PromptTuning.PatchedSet(adv, clean, masks, java.util.Arrays.copyOf(eval.labels(), 2));
    }

    @Test
    void givenTheShippedModel_whenOneStepIsTaken_thenEachTermsGradientReachesThePromptsItShould() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffusionModel.load("diffusion-unified");
                Classifier c = ModelStore.loadClassifier("classifier-resnet")) {
            PromptTuning.PatchedSet set = shippedPatched(m);
            TuningOptions opt = TuningOptions.defaults(3).withRestoreSteps(3);
            double[][] g = new PromptTuning(model, c, Diffender.Options.manual(), opt).gradientNorms(set);
            // prompt_L: through the BCE (mask) and through the STE mask into the restoration (l1, feature)
            for (int t = 0; t < 3; t++) {
                assertTrue(g[0][t] > 0 && Double.isFinite(g[0][t]), "prompt_L, term " + t + ": " + g[0][t]);
            }
            // prompt_R: only the restoration terms reach it
            assertEquals(0.0, g[1][0], "the mask loss does not involve prompt_R");
            assertTrue(g[1][1] > 0 && g[1][2] > 0, "prompt_R through the restoration: " + g[1][1] + ", " + g[1][2]);
        }
    }

    @Test
    void givenMaskLossOnly_whenOneStepIsTaken_thenOnlyPromptLGetsAMaskGradientAndNoRestorationRuns() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m);
                Classifier c = tinyClassifier(m)) {
            TuningOptions opt = quick().withInit("alpha", "beta").maskLossOnly();
            double[][] g = new PromptTuning(model, c, DiffenderTest.fast(Prompt.empty(), Prompt.empty()), opt)
                    .gradientNorms(patched(m, 2, 1));
            assertTrue(g[0][0] > 0 && Double.isFinite(g[0][0]), "mask term on prompt_L: " + g[0][0]);
            assertTrue(Double.isNaN(g[0][1]) && Double.isNaN(g[0][2]), "l1 and feature not computed");
            assertTrue(Double.isNaN(g[1][0]) && Double.isNaN(g[1][1]), "prompt_R not tuned");
        }
    }

    @Test
    void givenALargeRestorationGradient_whenClippedPerTerm_thenTheMaskTermKeepsItsSizeUnlikeTotalClipping() {
        float[] mask = {0.5f, 0f};
        float[] l1 = {0f, 10f};
        float[][] grads = {mask, l1, null};
        double[] norms = {0.5, 10, Double.NaN};
        float[] perTerm = TuningLoss.combine(grads, norms, TuningOptions.GradientClip.PER_TERM, 1.0);
        float[] total = TuningLoss.combine(grads, norms, TuningOptions.GradientClip.TOTAL, 1.0);
        float[] none = TuningLoss.combine(grads, norms, TuningOptions.GradientClip.NONE, 1.0);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {0.5f, 1f}, perTerm, 1e-6f);
        assertEquals(0.5 / Math.hypot(0.5, 10), total[0], 1e-6, "the summed clip shrinks the mask term 20-fold");
        org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {0.5f, 10f}, none, 1e-6f);
    }

    @Test
    void givenWordsAsTheStart_whenTheStartingPromptIsEncoded_thenItIsExactlyTheManualPrompt() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m);
                Classifier c = tinyClassifier(m)) {
            Prompt[] start = new PromptTuning(model, c, DiffenderTest.fast(Prompt.empty(), Prompt.empty()),
                    quick().withInit("alpha beta", "")).startingPrompts();
            org.junit.jupiter.api.Assertions.assertArrayEquals(Prompt.text("alpha beta").context(model, m, 1)
                    .toFloatArray(), start[0].context(model, m, 1).toFloatArray(), 1e-6f);
            org.junit.jupiter.api.Assertions.assertArrayEquals(Prompt.empty().context(model, m, 1).toFloatArray(),
                    start[1].context(model, m, 1).toFloatArray(), 1e-6f);
            Prompt[] random = new PromptTuning(model, c, DiffenderTest.fast(Prompt.empty(), Prompt.empty()),
                    quick()).startingPrompts();
            assertNotEquals(Prompt.text("alpha beta").context(model, m, 1).toFloatArray()[0],
                    random[0].context(model, m, 1).toFloatArray()[0], "the random start is another prompt");
        }
    }

    @Test
    void givenTinyModels_whenTuned_thenEpochZeroIsValidatedEveryEpochIsRecordedAndTheKeptPromptsRoundTrip() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m);
                Classifier c = tinyClassifier(m)) {
            Diffender.Options base = DiffenderTest.fast(Prompt.empty(), Prompt.empty());
            List<String> log = new java.util.ArrayList<>();
            PromptTuning.Result r = new PromptTuning(model, c, base, quick().withInit("alpha", null))
                    .tune(patched(m, 4, 1), patched(m, 4, 2), log::add);
            assertEquals(3, r.history().size(), "epoch 0 and two epochs");
            assertEquals(3, log.size());
            assertTrue(log.get(0).startsWith("tune-prompts epoch 0"), log.get(0));
            assertTrue(log.get(1).contains("|grad| L [mask"), log.get(1));
            assertEquals(0, r.start().epoch());
            assertTrue(r.start().validationIou() != null && r.start().validationAccuracy() != null);
            // the kept epoch: highest raw-mask IoU on validation, the earliest of equals (restored accuracy breaks a tie)
            PromptTuning.Epoch top = r.history().get(0);
            for (PromptTuning.Epoch e : r.history()) {
                boolean higher = e.validationIou() > top.validationIou() || e.validationIou().equals(top.validationIou())
                        && e.validationAccuracy() > top.validationAccuracy();
                top = higher ? e : top;
            }
            assertEquals(top.epoch(), r.bestEpoch(), r.history().toString());
            for (PromptTuning.Epoch e : r.history().subList(1, 3)) {
                assertTrue(Double.isFinite(e.loss()) && e.validationAccuracy() != null, "epoch " + e.epoch());
                assertTrue(e.gradNormL()[0] > 0 && e.gradNormR()[1] > 0, "per-term gradient norms logged");
            }
            float[] l = r.promptL().embeddings();
            assertEquals(12 * 8, l.length);

            ModelCard card = new ModelCard("prompts-test", "prompts", null, 64,
                    null, "test", "test", "test", 3, java.util.Map.of(), 0, java.util.Map.of(), java.util.Map.of(),
                    java.util.Map.of(), null, null, null);
            TunedPrompts.save(tmp, r.promptL(), r.promptR(), 12, 8, card);
            Prompt[] back = TunedPrompts.load(tmp.toString(), model);
            org.junit.jupiter.api.Assertions.assertArrayEquals(l, back[0].embeddings());
            org.junit.jupiter.api.Assertions.assertArrayEquals(r.promptR().embeddings(), back[1].embeddings());
            assertThrows(LustraException.class, () -> TunedPrompts.load(
                    tmp.resolve("missing").toString(), model));
        }
    }

    @Test
    void givenTheSameSeeds_whenTunedTwice_thenTheKeptPromptsAreTheSameBytes() {
        try (NDManager m = NDManager.newBaseManager(); DiffusionModel model = DiffenderTest.tiny(m);
                Classifier c = tinyClassifier(m)) {
            Diffender.Options base = DiffenderTest.fast(Prompt.empty(), Prompt.empty());
            TuningOptions opt = quick().withInit("alpha", "beta").withEpochs(1);
            PromptTuning.Result a = new PromptTuning(model, c, base, opt).tune(patched(m, 2, 1), patched(m, 2, 2),
                    s -> { });
            PromptTuning.Result b = new PromptTuning(model, c, base, opt).tune(patched(m, 2, 1), patched(m, 2, 2),
                    s -> { });
            org.junit.jupiter.api.Assertions.assertArrayEquals(a.promptL().embeddings(), b.promptL().embeddings());
            assertEquals(a.history().get(1).loss(), b.history().get(1).loss());
        }
    }
}
