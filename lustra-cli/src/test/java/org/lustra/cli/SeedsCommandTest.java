package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraHome;

/** {@code lustra eval seeds}: Markdown on stdout or in --out, seeds credited to the folder they came from. */
class SeedsCommandTest {
    @TempDir
    Path tmp;

    @Test
    void givenSeedOneAndSeedsTwoThreeInTwoCommittedFolders_whenPooled_thenEachSeedIsCreditedToItsFolder()
            throws Exception {
        String seed1 = LustraHome.root().resolve("docs/results/hetero-gradients").toString();
        String seeds23 = LustraHome.root().resolve("docs/results/hetero-vs-diffpure-seeds23").toString();
        Path out = tmp.resolve("SEEDS.md");

        CliErrorsTest.Run printed = CliErrorsTest.run("eval", "seeds", seed1, seeds23);
        CliErrorsTest.Run written = CliErrorsTest.run("eval", "seeds", seed1, seeds23, "--out", out.toString());

        assertEquals(0, printed.code(), printed.err());
        assertTrue(printed.out().startsWith("# Mean ± std over run seeds across run folders"), printed.out());
        // hetero's worst-of cell kept 78 of 128 images on seed 1 (docs/results/hetero-gradients/NOTES.md: 60.9 %);
        // seed 2 of the same cell finished on 4 December (its 128 images are committed)
        String row = printed.out().lines().filter(l -> l.startsWith("| `hetero:tl0.2:ts0.05:minmax:tau0.9:single3:"
                + "stride10\\|pgd-linf-0.0314-s20-eot4\\|adaptive` |")).findFirst().orElseThrow();
        assertTrue(row.contains("1: 78 / 128 (`" + seed1 + "`)") && row.contains("2: ")
                && row.contains("(`" + seeds23 + "`)"), row);
        assertEquals(printed.out(), Files.readString(out, StandardCharsets.UTF_8));
        assertEquals("Seeds: " + out, written.out().trim());
    }

    @Test
    void givenAFolderThatIsNotARun_whenSeedsRuns_thenOneSentenceSaysWhatToGive() {
        CliErrorsTest.assertOneSentence(CliErrorsTest.run("eval", "seeds", tmp.toString()),
                "is not a run folder (no manifest.json); give folders `lustra eval run --out` wrote");
    }
}
