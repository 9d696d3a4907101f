package org.lustra.eval.worst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lustra.eval.worst.CrossRunWorstTest.A_8;
import static org.lustra.eval.worst.CrossRunWorstTest.NA_8;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraException;

/** Run folders combine per image only when they name the same images with the same models; else one sentence. */
class RunReaderTest {
    private static final String SHA_A = "a".repeat(64);
    private static final String SHA_B = "b".repeat(64);

    @TempDir
    Path tmp;

    private static String message(Executable e) {
        return assertThrows(LustraException.class, e::run).getMessage();
    }

    private interface Executable {
        void run() throws Exception;
    }

    @Test
    void givenRunsOnDifferentSubsets_whenCombined_thenTheErrorNamesBoth() throws Exception {
        Path a = new RunFolder("strong").cell(A_8, true).write(tmp);
        Path sorted = new RunFolder("sorted").subset("digits-holdout").mode("nonadaptive").cell(NA_8, true).write(tmp);

        String m = message(() -> CrossRunWorst.of(List.of(a, sorted)));

        assertTrue(m.contains("digits-holdout~shuffled vs classifier-digits on digits-holdout"), m);
    }

    @Test
    void givenAThirdRunWhoseWeightsDifferFromTheSecondOnly_whenCombined_thenTheChangedModelIsNamed()
            throws Exception {
        Path a = new RunFolder("a").cell(A_8, true).write(tmp); // records no hashes
        Path b = new RunFolder("b").mode("nonadaptive").hashes(Map.of("model:disco-fmnist", SHA_A)).cell(NA_8, true)
                .write(tmp);
        Path c = new RunFolder("c").mode("nonadaptive").profile("paper")
                .hashes(Map.of("model:disco-fmnist", SHA_B)).cell(NA_8, true).write(tmp);

        String m = message(() -> CrossRunWorst.of(List.of(a, b, c)));

        assertTrue(m.startsWith("Run folder " + c + " used other inputs than an earlier folder: model:disco-fmnist"),
                m);
    }

    @Test
    void givenAFolderTwice_whenCombined_thenItIsRefused() throws Exception {
        Path a = new RunFolder("a").cell(A_8, true).write(tmp);

        String m = message(() -> CrossRunWorst.of(List.of(a, a.resolve("..").resolve("a"))));

        assertTrue(m.endsWith("is given twice; give each folder once."), m);
    }

    @Test
    void givenARunWithoutAJournalYet_whenCombined_thenItJoinsWithNoCells() throws Exception {
        Path a = new RunFolder("a").cell(A_8, true, false).write(tmp);
        Path fresh = new RunFolder("fresh").mode("nonadaptive").noJournal().write(tmp);

        CrossRunWorst.Result r = CrossRunWorst.of(List.of(a, fresh));

        assertEquals(1, r.groups().get(0).members().size());
        assertEquals(List.of(2L, 0L), r.runs().stream().map(CrossRunWorst.Run::records).toList());
    }

    @Test
    void givenANonFiniteRecord_whenCombined_thenItIsAnErrorNotAResult() throws Exception {
        Path bad = new RunFolder("bad").nonFinite(A_8).write(tmp);

        String m = message(() -> CrossRunWorst.of(List.of(bad)));

        assertTrue(m.contains("non-finite record (" + A_8 + ", seed 1, image 0)"), m);
        assertTrue(m.contains("--redo <cell>"), m);
    }

    @Test
    void givenAFolderThatIsNotARun_whenCombined_thenTheSentenceSaysWhatToGive() {
        String m = message(() -> CrossRunWorst.of(List.of(tmp)));

        assertTrue(m.endsWith("is not a run folder (no manifest.json); give folders `lustra eval run --out` wrote."),
                m);
    }
}
