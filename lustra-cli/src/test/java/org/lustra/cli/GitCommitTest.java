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
 * The commit a run records: a committed run folder that the run itself rewrites must not make the code "-dirty",
 * or a redo in it is marked "mixed" at once and can never resume; any other change still must.
 */
class GitCommitTest {
    @TempDir
    Path repo;

    private Path run;

    @BeforeEach
    void givenARepositoryWithACommittedRunFolder() throws Exception {
        git("init", "-q");
        Files.writeString(repo.resolve("Code.java"), "class Code {}\n");
        run = Files.createDirectories(repo.resolve("docs/results/some-run"));
        Files.writeString(run.resolve("samples.jsonl"), "{}\n");
        git("add", ".");
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base");
    }

    @Test
    void whenOnlyTheRunFolderChangesThenTheCommitIsCleanForThatRunAndDirtyOtherwise() throws Exception {
        Files.writeString(run.resolve("samples.jsonl"), "{}\n{}\n");

        String forThisRun = ExperimentCommands.gitCommit(repo, run);
        String forAnyOther = ExperimentCommands.gitCommit(repo, repo.resolve("docs/results/other"));

        assertTrue(forThisRun.matches("[0-9a-f]{40}"), forThisRun);
        assertEquals(forThisRun + "-dirty", forAnyOther);
    }

    @Test
    void whenCodeChangesThenTheCommitIsDirtyEvenForTheRunFolder() throws Exception {
        Files.writeString(repo.resolve("Code.java"), "class Code { int x; }\n");

        String commit = ExperimentCommands.gitCommit(repo, run);

        assertTrue(commit.matches("[0-9a-f]{40}-dirty"), commit);
    }

    @Test
    void whenTheRunFolderIsOutsideTheRepositoryThenOnlyCodeCounts(@TempDir Path elsewhere) throws Exception {
        String clean = ExperimentCommands.gitCommit(repo, elsewhere);
        Files.writeString(repo.resolve("Code.java"), "class Code { int y; }\n");

        assertTrue(clean.matches("[0-9a-f]{40}"), clean);
        assertEquals(clean + "-dirty", ExperimentCommands.gitCommit(repo, elsewhere));
    }

    private void git(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "git " + String.join(" ", args) + ": " + out);
    }
}
