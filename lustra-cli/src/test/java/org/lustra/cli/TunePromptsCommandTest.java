package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TunePromptsCommandTest {
    @Test
    void givenOptionsBeyondTheDefaults_whenTheCardRecordsTheCommand_thenEveryOneIsThereExceptTheOutputFolder() {
        // as the real CLI parses it: a subcommand of lustra, after the top-level arguments
        CommandLine top = new CommandLine(new Main());
        top.parseArgs("tune-prompts", "--mask-loss-only", "--abar", "0.7", "--lr", "0.2", "--out", "/tmp/x",
                "--epochs=200", "--validate-every", "20");
        TunePromptsCommand cmd = top.getSubcommands().get("tune-prompts").getCommand();

        assertEquals("lustra tune-prompts --mask-loss-only --abar 0.7 --lr 0.2 --epochs 200 --validate-every 20",
                cmd.commandLine());
    }

    @Test
    void givenTheOutputFolderWrittenWithAnEqualsSign_whenTheCardRecordsTheCommand_thenItIsLeftOutToo() {
        assertEquals("lustra tune-prompts --lr 0.2", TunePromptsCommand.cardCommand(java.util.List.of("--out=/tmp/y",
                "--lr", "0.2")));
    }
}
