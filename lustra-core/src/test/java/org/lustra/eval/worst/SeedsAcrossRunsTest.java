package org.lustra.eval.worst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraException;

/** A cell's mean ± std over run seeds kept in several run folders. */
class SeedsAcrossRunsTest {
    private static final String A_8 = CrossRunWorstTest.A_8;

    @TempDir
    Path tmp;

    @Test
    void givenSeedOneInOneFolderAndSeedsTwoAndThreeInAnother_whenPooled_thenTheMeanAndSampleStdAreOverThreeSeeds()
            throws Exception {
        // given seed 1 keeps 3 of 4 images, seed 2 keeps 2, seed 3 keeps 4
        Path first = new RunFolder("seed1").cell(A_8, 1, true, true, false, true).write(tmp);
        Path later = new RunFolder("seeds23").seeds(2, 3).cell(A_8, 2, true, false, false, true)
                .cell(A_8, 3, true, true, true, true).write(tmp);

        // when
        SeedsAcrossRuns.Result r = SeedsAcrossRuns.of(List.of(first, later));

        // then mean (0.75 + 0.5 + 1) / 3 = 0.75, sample std sqrt((0 + 0.0625 + 0.0625) / 2) = 0.25
        SeedsAcrossRuns.Pooled p = r.cells().stream().filter(c -> c.id().equals(A_8)).findFirst().orElseThrow();
        assertEquals(List.of(new SeedsAcrossRuns.SeedCount(first.toString(), 1, 4, 4, 3, 4),
                new SeedsAcrossRuns.SeedCount(later.toString(), 2, 4, 4, 2, 4),
                new SeedsAcrossRuns.SeedCount(later.toString(), 3, 4, 4, 4, 4)), p.seeds());
        assertEquals(0.75, p.summary().robustMean(), 1e-12);
        assertEquals(0.25, p.summary().robustStd(), 1e-12);
        assertEquals(3, p.summary().runs());
        assertTrue(p.finished());
        String md = SeedsMarkdown.render(r, "lustra eval seeds a b");
        assertTrue(md.contains("| `disco\\|pgd-linf-0.0314\\|adaptive` | 3 | 100.0 |"), md);
        assertTrue(md.contains("**75.0 ± 25.0**") && md.contains("2: 2 / 4 (`" + later + "`)"), md);
    }

    @Test
    void givenASeedWithHalfItsImagesAndASeedNotYetStarted_whenPooled_thenTheCellIsMarkedUnfinished()
            throws Exception {
        Path first = new RunFolder("seed1").cell(A_8, 1, true, true, false, true).write(tmp);
        Path later = new RunFolder("seeds23").seeds(2, 3).cell(A_8, 2, true, false).write(tmp);

        SeedsAcrossRuns.Result r = SeedsAcrossRuns.of(List.of(first, later));

        SeedsAcrossRuns.Pooled p = r.cells().get(0);
        assertFalse(p.finished());
        assertEquals(List.of(3L), p.missingSeeds());
        String md = SeedsMarkdown.render(r, "c");
        assertTrue(md.contains("| 2 (*unfinished*) |") && md.contains("2: 1 / 2 of 4 (`" + later + "`) · 3: not yet"),
                md);
    }

    @Test
    void givenOneSeedOfOneFolderOnly_whenPooled_thenItIsFinishedOnlyWithAllItsImages() throws Exception {
        Path partial = new RunFolder("partial").cell(A_8, 1, true, false, true).write(tmp);

        SeedsAcrossRuns.Pooled p = SeedsAcrossRuns.of(List.of(partial)).cells().get(0);

        assertFalse(p.finished(), "3 of 4 images: a one-seed cell is not finished either");
    }

    @Test
    void givenTheSameSeedInTwoFolders_whenPooled_thenOneSentenceRefusesToCountItTwice() throws Exception {
        Path a = new RunFolder("a").cell(A_8, 1, true, true).write(tmp);
        Path b = new RunFolder("b").cell(A_8, 1, false, true).write(tmp);

        LustraException e = assertThrows(LustraException.class, () -> SeedsAcrossRuns.of(List.of(a, b)));

        assertTrue(e.getMessage().contains("Run seed 1 of cell " + A_8 + " is in both " + a + " and " + b)
                && e.getMessage().contains("a seed counts once"), e.getMessage());
    }

    @Test
    void givenACellRunAgainstAnotherDefence_whenPooled_thenItIsRefusedNamingWhatDiffersAndWhere() throws Exception {
        Path a = new RunFolder("a").cell(A_8, 1, true, true).write(tmp);
        Path b = new RunFolder("b").seeds(2).defence("disco", "disco(width=64)").cell(A_8, 2, false, true).write(tmp);

        LustraException e = assertThrows(LustraException.class, () -> SeedsAcrossRuns.of(List.of(a, b)));

        assertTrue(e.getMessage().contains("ran with another threat model and gradient route in " + b + " than in "
                + a), e.getMessage());
    }

    @Test
    void givenFoldersOfDifferentSizes_whenPooled_thenOneSentenceSaysTheMeanNeedsTheSameImages() throws Exception {
        Path a = new RunFolder("a").cell(A_8, 1, true, true).write(tmp);
        Path b = new RunFolder("b").seeds(2).images(8).cell(A_8, 2, false, true).write(tmp);

        LustraException e = assertThrows(LustraException.class, () -> SeedsAcrossRuns.of(List.of(a, b)));

        assertTrue(e.getMessage().contains("score different image counts (4 vs 8)"), e.getMessage());
    }

    @Test
    void givenFoldersOnDifferentImages_whenPooled_thenOneSentenceNamesBothAndSaysWhatCombines() throws Exception {
        Path a = new RunFolder("a").cell(A_8, 1, true, true).write(tmp);
        Path b = new RunFolder("b").seeds(2).subset("eval512").cell(A_8, 2, false, true).write(tmp);

        LustraException e = assertThrows(LustraException.class, () -> SeedsAcrossRuns.of(List.of(a, b)));

        assertTrue(e.getMessage().contains("on digits-holdout~shuffled vs ") && e.getMessage().contains(
                "on eval512); records of several folders combine (per-image worst case, seeds pooled) only under one "
                        + "classifier and one subset"), e.getMessage());
    }

    @Test
    void givenFoldersWithoutRecords_whenPooled_thenOneSentenceSaysThereIsNothingYet() throws Exception {
        Path a = new RunFolder("a").noJournal().write(tmp);

        LustraException e = assertThrows(LustraException.class, () -> SeedsAcrossRuns.of(List.of(a)));

        assertTrue(e.getMessage().contains("nothing to pool"), e.getMessage());
    }

    @Test
    void givenAWorstOfCellAndItsRoutes_whenPooled_thenTheStrictReadingKeepsOnlyImagesThePickAndEveryRouteKept()
            throws Exception {
        // given image 1 fooled by route A alone but judged robust again as the pick (fresh votes), image 2 fooled
        Path run = new RunFolder("worst-of").routes("A", "B").cell(A_8, 1, true, true, false, true)
                .cell(A_8 + "@A", 1, true, false, false, true).cell(A_8 + "@B", 1, true, true, false, true).write(tmp);

        // when
        SeedsAcrossRuns.Result r = SeedsAcrossRuns.of(List.of(run));

        // then the pick keeps 3, the strict reading 2 (images 0 and 3); route cells have no strict reading of their own
        SeedsAcrossRuns.Pooled pick = r.cells().stream().filter(c -> c.id().equals(A_8)).findFirst().orElseThrow();
        assertEquals(List.of(new SeedsAcrossRuns.Strict(1, 4, 2)), pick.strict());
        assertEquals(0.75, pick.summary().robustMean(), 1e-12);
        assertTrue(r.cells().stream().filter(c -> c.id().startsWith(A_8 + "@")).allMatch(c -> c.strict().isEmpty()));
        assertEquals(3, r.cells().size(), "the pick and two route cells");
        assertTrue(SeedsMarkdown.render(r, "c").contains("| 1: 3 / 4 (`" + run + "`) | 1: 2 / 4 |"));
    }

}
