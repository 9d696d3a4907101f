package org.lustra.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.data.ImageSet;
import org.lustra.util.LustraException;

class TrainingTest {
    @TempDir
    Path tmp;

    /** Three classes of 8×8 images: a bright bar at the top, middle or bottom, plus noise. */
    static ImageSet bars(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] px = new byte[n * 64];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(3);
            for (int p = 0; p < 64; p++) {
                int row = p / 8;
                boolean bar = row >= 1 + 2 * y[i] && row <= 2 + 2 * y[i];
                px[i * 64 + p] = (byte) ((bar ? 180 : 0) + r.nextInt(60));
            }
        }
        return new ImageSet(px, y, 1, 8, 8);
    }

    static final ClassifierTraining.Options OPT = new ClassifierTraining.Options(3, 16, 5e-3f, 0.01f, 5, false, 1, 9L,
            3600);

    @Test
    void trainingLearnsAndIsDeterministic() {
        ImageSet train = bars(160, 1);
        ImageSet val = bars(60, 2);
        ClassifierTraining.Result a = ClassifierTraining.train(TinyModels.RESNET, train, val, OPT, tmp.resolve("a"),
                s -> { });
        ClassifierTraining.Result b = ClassifierTraining.train(TinyModels.RESNET, train, val, OPT, tmp.resolve("b"),
                s -> { });
        try {
            assertTrue(a.validationAccuracy() > 0.9, "validation accuracy " + a.validationAccuracy());
            assertArrayEquals(ModelStore.encode(a.net()), ModelStore.encode(b.net()), "same seed, same bytes");
            assertEquals(3, a.history().size());
        } finally {
            a.manager().close();
            b.manager().close();
        }
    }

    @Test
    void interruptedRunResumesToTheSameWeights() {
        ImageSet train = bars(160, 1);
        ImageSet val = bars(60, 2);
        ClassifierTraining.Result whole = ClassifierTraining.train(TinyModels.RESNET, train, val, OPT,
                tmp.resolve("whole"), s -> { });
        // stop mid-epoch (step 13 of 30), as a killed run would after its last checkpoint
        ClassifierTraining.Result part = ClassifierTraining.train(TinyModels.RESNET, train, val, OPT,
                tmp.resolve("split"), s -> { }, 13);
        part.manager().close();
        StringBuilder log = new StringBuilder();
        ClassifierTraining.Result resumed = ClassifierTraining.train(TinyModels.RESNET, train, val, OPT,
                tmp.resolve("split"), log::append);
        try {
            assertTrue(log.toString().contains("Resuming"), log.toString());
            assertArrayEquals(ModelStore.encode(whole.net()), ModelStore.encode(resumed.net()));
            assertEquals(whole.validationAccuracy(), resumed.validationAccuracy());
        } finally {
            whole.manager().close();
            resumed.manager().close();
        }
    }

    @Test
    void resumingWithOtherSettingsIsRefused() {
        ImageSet train = bars(64, 1);
        ClassifierTraining.train(TinyModels.RESNET, train, train, OPT, tmp, s -> { }, 2).manager().close();
        ClassifierTraining.Options other = new ClassifierTraining.Options(4, 16, 5e-3f, 0.01f, 5, false, 1, 9L, 3600);
        assertThrows(LustraException.class,
                () -> ClassifierTraining.train(TinyModels.RESNET, train, train, other, tmp, s -> { }));
    }

    @Test
    void invalidOptionsNameTheBadValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ClassifierTraining.Options(0, 16, 1e-3f, 0, 0, false, 0, 1, 60));
        assertTrue(e.getMessage().contains("epochs: 0"), e.getMessage());
    }
}
