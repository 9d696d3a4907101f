package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReproduceCommandTest {
    @TempDir
    Path tmp;

    private static Set<Path> scratchFolders() throws IOException {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("lustra-reproduce"))
                    .collect(Collectors.toSet());
        }
    }

    @Test
    void givenAFinishedRun_whenReproduced_thenItReproducesAndLeavesNoScratchFolderBehind() throws Exception {
        Path config = tmp.resolve("tiny.json");
        Files.writeString(config, "{\"name\": \"tiny\", \"classifier\": \"classifier-resnet\", \"subset\": \"eval512\", "
                + "\"images\": 4, \"profile\": \"quick\", \"seeds\": [1], \"defenses\": [\"none\"], \"attacks\": "
                + "[{\"attack\": \"pgd\", \"norm\": \"linf\", \"eps\": [0.03], \"steps\": 2}]}");
        Path run = tmp.resolve("run");
        assertEquals(0, CliErrorsTest.run("eval", "run", config.toString(), "--out", run.toString()).code());
        Set<Path> before = scratchFolders();

        CliErrorsTest.Run r = CliErrorsTest.run("eval", "reproduce", run.toString(), "--chunks", "1");

        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("All 1 chunks reproduce."), r.out());
        assertEquals(before, scratchFolders(), "the rerun's scratch folder is deleted");
    }
}
