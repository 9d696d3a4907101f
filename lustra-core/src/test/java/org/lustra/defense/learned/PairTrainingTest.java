package org.lustra.defense.learned;

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
import org.junit.jupiter.api.io.TempDir;
import org.lustra.data.ImageSet;
import org.lustra.defense.disco.Disco;
import org.lustra.defense.disco.DiscoNetwork;
import org.lustra.defense.maep.Maep;
import org.lustra.defense.maep.MaepNetwork;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.LustraException;

class PairTrainingTest {
    @TempDir
    Path tmp;

    static final PairTraining.Options OPT = new PairTraining.Options(4, 4, 1e-3f, 1, 0.05f, List.of(0.0, 0.1), 2, 5L,
            3600, 2);

    private static MaepNetwork fresh() {
        return MaepNetwork.create(TinyPurifiers.MAEP, NDManager.newBaseManager(), 7);
    }

    @Test
    void givenAnInterruptedRun_whenResumed_thenItEndsWithTheWeightsOfAnUninterruptedRun() {
        ImageSet data = TinyPurifiers.images(12, 1);
        try (NetClassifier c = TinyPurifiers.classifier(3)) {
            PairTraining.Result whole = PairTraining.train(fresh(), data, c, OPT, tmp.resolve("a"), s -> { });
            PairTraining.Result part = PairTraining.train(fresh(), data, c, OPT, tmp.resolve("b"), s -> { }, 2);
            assertEquals(2, part.steps());
            byte[] halfway = ModelStore.encode(part.network().block());
            part.network().close();
            StringBuilder log = new StringBuilder();
            PairTraining.Result resumed = PairTraining.train(fresh(), data, c, OPT, tmp.resolve("b"), log::append);
            try {
                assertTrue(log.toString().contains("Resuming"), log.toString());
                byte[] end = ModelStore.encode(whole.network().block());
                assertTrue(!java.util.Arrays.equals(halfway, end), "the last two steps changed the weights");
                assertArrayEquals(end, ModelStore.encode(resumed.network().block()));
                assertEquals(2, resumed.history().size(), resumed.history().toString());
                assertEquals(0L, resumed.skippedSteps());
            } finally {
                whole.network().close();
                resumed.network().close();
            }
        }
    }

    @Test
    void givenACheckpointOfOtherSettings_whenTrainingStarts_thenItRefusesInOneSentence() {
        ImageSet data = TinyPurifiers.images(12, 1);
        try (NetClassifier c = TinyPurifiers.classifier(3)) {
            PairTraining.train(fresh(), data, c, OPT, tmp.resolve("c"), s -> { }, 1).network().close();
            PairTraining.Options other = new PairTraining.Options(4, 4, 2e-3f, 1, 0.05f, List.of(0.0, 0.1), 2, 5L,
                    3600, 2);
            MaepNetwork net = fresh();
            LustraException e = assertThrows(LustraException.class,
                    () -> PairTraining.train(net, data, c, other, tmp.resolve("c"), s -> { }));
            net.close();
            assertTrue(e.getMessage().contains("different settings"), e.getMessage());
        }
    }

    @Test
    void givenTwoBudgets_whenPairsAreMade_thenEverySampleStaysInTheLargestBallAndHalfStayClean() {
        ImageSet data = TinyPurifiers.images(8, 2);
        try (NetClassifier c = TinyPurifiers.classifier(3); NDManager m = NDManager.newBaseManager()) {
            float[] clean = new float[8 * 64];
            for (int i = 0; i < 8; i++) {
                System.arraycopy(data.imageFloats(i), 0, clean, i * 64, 64);
            }
            float[] adv = AdversarialPairs.generate(c, m, clean, data.labels(), new Shape(1, 8, 8), List.of(0.0, 0.1),
                    3, new SplittableRandom(4));
            int untouched = 0;
            for (int i = 0; i < 8; i++) {
                double max = 0;
                for (int j = i * 64; j < (i + 1) * 64; j++) {
                    max = Math.max(max, Math.abs(adv[j] - clean[j]));
                    assertTrue(adv[j] >= 0 && adv[j] <= 1);
                }
                assertTrue(max <= 0.1 + 1e-6, "image " + i + " moved " + max);
                untouched += max == 0 ? 1 : 0;
            }
            assertEquals(4, untouched, "the eps = 0 slice is clean, the eps = 0.1 slice is attacked");
            assertArrayEquals(adv, AdversarialPairs.generate(c, m, clean, data.labels(), new Shape(1, 8, 8),
                    List.of(0.0, 0.1), 3, new SplittableRandom(4)), 0f, "the same generator state replays the pairs");
        }
    }

    @Test
    void givenTrainedNetworks_whenSavedAndLoaded_thenThePurifiersGiveTheSameBytes() {
        ImageSet data = TinyPurifiers.images(4, 3);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = data.batch(m, 0, 4);
            PurifierNetwork[] nets = {fresh(), DiscoNetwork.create(TinyPurifiers.DISCO, NDManager.newBaseManager(), 8)};
            for (PurifierNetwork net : nets) {
                Path dir = tmp.resolve(net.kind());
                PairTraining.Result r = new PairTraining.Result(net, 1.0, 0, 0, List.of());
                LearnedModels.save(net, LearnedModels.card("tiny-" + net.kind(), "test", r, OPT, "tiny-resnet",
                        TinyPurifiers.CLASSES, "synthetic", "none", "test"), dir);
                try (LearnedPurifier own = new LearnedPurifier(net.kind(), net);
                        LearnedPurifier loaded = net.kind().equals(MaepNetwork.KIND)
                                ? Maep.load("maep", dir.toString()) : Disco.load("disco", dir.toString())) {
                    assertArrayEquals(own.purify(x, 0).toFloatArray(), loaded.purify(x, 0).toFloatArray(), 0f);
                }
            }
            LustraException wrongKind = assertThrows(LustraException.class,
                    () -> Disco.load("disco", tmp.resolve("maep").toString()));
            assertTrue(wrongKind.getMessage().contains("a maep model, not a disco model"), wrongKind.getMessage());
        }
    }
}
