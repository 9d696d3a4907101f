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

    /** A subset stored sorted by class, as digits-holdout is: labels 0,0,…,1,1,…,9. */
    private static ImageSet sortedByClass(int perClass) {
        int n = 10 * perClass;
        byte[] px = new byte[n * 4];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i / perClass;
            px[i * 4] = (byte) i;
        }
        return new ImageSet(px, y, 1, 2, 2);
    }

    @Test
    void givenASubsetSortedByClass_whenLoadedShuffled_thenTheSameImagesComeInOneFixedMixedOrder() throws IOException {
        Subsets.make(tmp, 7, synthetic(6000, 0), synthetic(600, 0), Path.of("fm"), sortedByClass(50), Path.of("d"),
                null, "t", s -> { });
        ImageSet stored = Subsets.load(tmp, "digits-holdout");

        ImageSet a = Subsets.load(tmp, "digits-holdout~shuffled");
        ImageSet b = Subsets.load(tmp, "digits-holdout~shuffled");

        assertArrayEquals(a.pixels(), b.pixels(), "the order is seeded: the same on every load");
        assertArrayEquals(a.labels(), b.labels());
        assertFalse(Arrays.equals(stored.labels(), a.labels()), "the order differs from the stored one");
        int[] storedSorted = stored.labels().clone();
        int[] shuffledSorted = a.labels().clone();
        Arrays.sort(storedSorted);
        Arrays.sort(shuffledSorted);
        assertArrayEquals(storedSorted, shuffledSorted, "the same images, only reordered");
        assertTrue(Subsets.unrepresentativeHead(stored, 60, SubsetSpec.parse("digits-holdout")).isPresent(),
                "stored: sorted by class");
        assertTrue(Subsets.unrepresentativeHead(a, 60, SubsetSpec.parse("digits-holdout~shuffled")).isEmpty(),
                "the first 60 of a random order hold every class here");
    }

    @Test
    void givenTheFirstImagesOfASortedSubset_whenCheckedForClasses_thenTheWarningNamesTheMissingOrderAndTheFix() {
        ImageSet sorted = sortedByClass(20);

        SubsetSpec stored = SubsetSpec.parse("digits-holdout");

        String w = Subsets.unrepresentativeHead(sorted, 45, stored).orElseThrow();

        assertEquals("The first 45 images of digits-holdout hold 3 of its 10 classes [0, 1, 2], so the results "
                + "describe those classes only; use digits-holdout~shuffled (a seeded random order) or more images.", w);
        assertTrue(Subsets.unrepresentativeHead(sorted, 200, stored).isEmpty(), "all images: nothing missing");
        assertTrue(Subsets.unrepresentativeHead(sorted, 5, stored).isEmpty(), "5 images cannot hold 10 classes");
    }

    @Test
    void tamperedSubsetFileIsRejected() throws IOException {
        Subsets.make(tmp, 1, synthetic(6000, 0), synthetic(100, 0), Path.of("fm"), null, null, null, "t", s -> { });
        Path f = tmp.resolve("fewshot8-labels-idx1-ubyte.gz");
        Idx.write(f, new int[] {8}, new byte[8]);
        assertThrows(LustraException.class, () -> Subsets.load(tmp, "fewshot8"));
    }

    @Test
    void toneSetShiftsEachEvalImageTowardsARecordedOtherTestImage() {
        // given subsets made twice with one seed from a test split of varied images
        ImageSet train = synthetic(8000, 0);
        ImageSet test = varied(2000);
        Subsets.Manifest a = Subsets.make(tmp.resolve("a"), 42, train, test, Path.of("fm"), null, null,
                batch -> allTrue(batch.size()), "t", s -> { });
        Subsets.Manifest b = Subsets.make(tmp.resolve("b"), 42, train, test, Path.of("fm"), null, null,
                batch -> allTrue(batch.size()), "t", s -> { });

        // then the tone entry lists one target per eval image, never the image itself, the same for the same seed
        Subsets.Entry e = a.subsets().get(Subsets.TONE);
        int[] src = a.subsets().get("eval512").indices();
        assertEquals(Subsets.EVAL_SIZE, e.targets().length);
        assertArrayEquals(src, e.indices());
        assertArrayEquals(e.targets(), b.subsets().get(Subsets.TONE).targets());
        for (int i = 0; i < src.length; i++) {
            assertTrue(e.targets()[i] != src[i], "image " + i + " is its own target");
        }
        // and each shipped image is the grayscale transfer of its eval image onto its target, rounded to bytes
        ImageSet tone = Subsets.load(tmp.resolve("a"), Subsets.TONE);
        int changed = 0;
        for (int i = 0; i < tone.size(); i++) {
            float[] want = ToneTransfer.reinhardGray(test.imageFloats(src[i]), test.imageFloats(e.targets()[i]));
            byte[] got = tone.imageBytes(i);
            for (int j = 0; j < got.length; j++) {
                assertEquals(Math.round(want[j] * 255.0), got[j] & 0xff, "image " + i + " pixel " + j);
            }
            changed += Arrays.equals(got, test.imageBytes(src[i])) ? 0 : 1;
            assertEquals(test.label(src[i]), tone.label(i));
        }
        assertTrue(changed > tone.size() / 2, "only " + changed + " images changed");
    }

    @Test
    void writeToneKeepsEveryOtherEntry() throws IOException {
        // given a data directory without a tone set (made before it existed)
        ImageSet test = varied(2000);
        Subsets.make(tmp, 7, synthetic(8000, 0), test, Path.of("fm"), null, null, batch -> allTrue(batch.size()), "t",
                s -> { });
        byte[] before = Files.readAllBytes(tmp.resolve("eval512-images-idx3-ubyte.gz"));
        Subsets.Manifest made = Subsets.manifest(tmp);

        // when only the tone set is rewritten
        Subsets.Manifest m = Subsets.writeTone(tmp, test);

        // then it equals the one make() wrote and the other subsets are untouched
        assertArrayEquals(made.subsets().get(Subsets.TONE).targets(), m.subsets().get(Subsets.TONE).targets());
        assertEquals(made.subsets().get(Subsets.TONE).imagesSha256(), m.subsets().get(Subsets.TONE).imagesSha256());
        assertEquals(made.subsets().keySet(), m.subsets().keySet());
        assertArrayEquals(before, Files.readAllBytes(tmp.resolve("eval512-images-idx3-ubyte.gz")));
    }

    @Test
    void corruptedSpecLoadsTheCorruptedSubset() {
        // given shipped subsets, when a corrupted spec is loaded, then it is the corruption of the shipped subset
        Subsets.make(tmp, 3, synthetic(8000, 0), varied(600), Path.of("fm"), null, null, batch -> allTrue(batch.size()),
                "t", s -> { });
        ImageSet plain = Subsets.load(tmp, "eval512");
        ImageSet low = Subsets.load(tmp, "eval512+contrast:5");
        assertArrayEquals(Corruption.CONTRAST.applyTo(plain, 5).pixels(), low.pixels());
        assertFalse(Arrays.equals(plain.pixels(), low.pixels()));
        assertThrows(LustraException.class, () -> Subsets.load(tmp, "eval512+contrast:9"));
    }

    /** n 2x2 images with distinct, spread-out intensities (some black), labels 0..9. */
    private static ImageSet varied(int n) {
        byte[] px = new byte[n * 4];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 10;
            px[i * 4] = 0;
            px[i * 4 + 1] = (byte) (20 + i % 200);
            px[i * 4 + 2] = (byte) (60 + (i * 7) % 190);
            px[i * 4 + 3] = (byte) (i * 13 % 256);
        }
        return new ImageSet(px, y, 1, 2, 2);
    }

    private static boolean[] allTrue(int n) {
        boolean[] ok = new boolean[n];
        Arrays.fill(ok, true);
        return ok;
    }
}
