package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commit a run records: results that runs rewrite (the run's own folder, wherever it is committed, and anything
 * under docs/results, where other runs may be writing) must not make the code "-dirty", or a redo is marked "mixed"
 * at once and can never resume; a change to code still must.
 */
class GitCommitTest {
    @TempDir
    Path repo;

    private Path run;

    @BeforeEach
    void givenARepositoryWithCommittedRunFolders() throws Exception {
        git("init", "-q");
        Files.createDirectories(repo.resolve("src"));
        Files.writeString(repo.resolve("src/Code.java"), "class Code {}\n");
        run = Files.createDirectories(repo.resolve("runs/some-run"));
        Files.writeString(run.resolve("samples.jsonl"), "{}\n");
        Path other = Files.createDirectories(repo.resolve(ExperimentCommands.RESULTS + "/other-run"));
        Files.writeString(other.resolve("samples.jsonl"), "{}\n");
        git("add", ".");
        git("-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "base");
    }

    @Test
    void whenOnlyTheRunFolderChangesThenTheCommitIsCleanForThatRunAndDirtyOtherwise() throws Exception {
        Files.writeString(run.resolve("samples.jsonl"), "{}\n{}\n");

        String forThisRun = ExperimentCommands.gitCommit(repo, run);

        assertTrue(forThisRun.matches("[0-9a-f]{40}"), forThisRun);
        assertEquals(forThisRun + "-dirty", ExperimentCommands.gitCommit(repo, null));
        assertEquals(forThisRun + "-dirty", ExperimentCommands.gitCommit(repo, repo.resolve("src")));
    }

    @Test
    void whenAnotherRunRewritesItsFolderUnderDocsResultsThenTheCommitStaysClean() throws Exception {
        Files.writeString(repo.resolve(ExperimentCommands.RESULTS + "/other-run/samples.jsonl"), "{}\n{}\n");

        String commit = ExperimentCommands.gitCommit(repo, run);

        assertTrue(commit.matches("[0-9a-f]{40}"), commit);
    }

    @Test
    void whenCodeChangesThenTheCommitIsDirtyEvenForTheRunFolder() throws Exception {
        Files.writeString(repo.resolve("src/Code.java"), "class Code { int x; }\n");

        String commit = ExperimentCommands.gitCommit(repo, run);

        assertTrue(commit.matches("[0-9a-f]{40}-dirty"), commit);
    }

    @Test
    void whenTheHomeIsASubdirectoryThenCodeElsewhereInTheRepositoryStillCounts() throws Exception {
        Path home = repo.resolve("src");
        String clean = ExperimentCommands.gitCommit(home, run);
        Files.writeString(run.resolve("samples.jsonl"), "{}\n{}\n");
        String afterRun = ExperimentCommands.gitCommit(home, repo.resolve("runs/../runs/some-run"));
        Files.writeString(repo.resolve("top-level.txt"), "staged\n");
        git("add", "top-level.txt");

        assertTrue(clean.matches("[0-9a-f]{40}"), clean);
        assertEquals(clean, afterRun, "the run folder is excluded relative to the repository's top, not the home");
        assertEquals(clean + "-dirty", ExperimentCommands.gitCommit(home, run), "a staged file at the top counts");
    }

    @Test
    void whenTheRunFolderIsOutsideTheRepositoryThenOnlyCodeCounts(@TempDir Path elsewhere) throws Exception {
        String clean = ExperimentCommands.gitCommit(repo, elsewhere);
        Files.writeString(repo.resolve("src/Code.java"), "class Code { int y; }\n");

        assertTrue(clean.matches("[0-9a-f]{40}"), clean);
        assertEquals(clean + "-dirty", ExperimentCommands.gitCommit(repo, elsewhere));
    }

    private void git(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true);
        // the user's global settings (signing, hooks) stay out of the test's repository
        pb.environment().put("GIT_CONFIG_GLOBAL", "/dev/null");
        pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "git " + String.join(" ", args) + ": " + out);
    }
}
