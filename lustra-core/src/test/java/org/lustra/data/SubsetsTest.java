package org.lustra.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraException;

class SubsetsTest {
    @TempDir
    Path tmp;

    private static ImageSet synthetic(int n, int seedShift) {
        byte[] px = new byte[n * 4];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = (i * 7 + seedShift) % 10;
            px[i * 4] = (byte) i;
            px[i * 4 + 1] = (byte) (i >> 8);
        }
        return new ImageSet(px, y, 1, 2, 2);
    }

    @Test
    void subsetsAreSeededDisjointAndVerified() throws IOException {
        ImageSet train = synthetic(8000, 0);
        ImageSet test = synthetic(2000, 3);
        ImageSet digits = synthetic(500, 1);
        // an "oracle" that is right on even labels only
        Subsets.Manifest a = Subsets.make(tmp.resolve("a"), 42, train, test, Path.of("fm"), digits, Path.of("d"),
                batch -> {
                    boolean[] ok = new boolean[batch.size()];
                    for (int i = 0; i < ok.length; i++) {
                        ok[i] = batch.label(i) % 2 == 0;
                    }
                    return ok;
                }, "test", s -> { });
        Subsets.Manifest b = Subsets.make(tmp.resolve("b"), 42, train, test, Path.of("fm"), digits, Path.of("d"),
                null, "test", s -> { });

        int[] val = a.subsets().get("validation").indices();
        assertEquals(Subsets.VALIDATION_SIZE, val.length);
        assertArrayEquals(val, b.subsets().get("validation").indices(), "same seed, same split");
        assertArrayEquals(a.subsets().get("fewshot8").indices(), b.subsets().get("fewshot8").indices());
        Set<Integer> valSet = new HashSet<>();
        Arrays.stream(val).forEach(valSet::add);
        Set<Integer> fewClasses = new HashSet<>();
        for (int i : a.subsets().get("fewshot8").indices()) {
            assertFalse(valSet.contains(i), "few-shot image " + i + " is in the validation split");
            fewClasses.add(train.label(i));
        }
        assertEquals(8, fewClasses.size());
        assertEquals(8000 - Subsets.VALIDATION_SIZE, Subsets.trainingIndices(a, 8000).length);

        ImageSet eval = Subsets.load(tmp.resolve("a"), "eval512");
        assertEquals(Subsets.EVAL_SIZE, eval.size());
        for (int i = 0; i < eval.size(); i++) {
            assertEquals(0, eval.label(i) % 2, "eval subset holds only images the oracle got right");
        }
        assertFalse(b.subsets().containsKey("eval512"));
        assertEquals(100, Subsets.load(tmp.resolve("a"), "digits-holdout").size());
        assertTrue(Files.readAllBytes(tmp.resolve("a").resolve("validation-images-idx3-ubyte.gz")).length > 0);
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a").resolve("validation-images-idx3-ubyte.gz")),
                Files.readAllBytes(tmp.resolve("b").resolve("validation-images-idx3-ubyte.gz")), "byte-identical files");
    }

    @Test
    void tamperedSubsetFileIsRejected() throws IOException {
        Subsets.make(tmp, 1, synthetic(6000, 0), synthetic(100, 0), Path.of("fm"), null, null, null, "t", s -> { });
        Path f = tmp.resolve("fewshot8-labels-idx1-ubyte.gz");
        Idx.write(f, new int[] {8}, new byte[8]);
        assertThrows(LustraException.class, () -> Subsets.load(tmp, "fewshot8"));
    }
}
