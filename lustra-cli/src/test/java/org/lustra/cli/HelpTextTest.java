package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.IllegalFormatException;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

class HelpTextTest {

    @Test
    void givenEveryCommand_whenItsHelpIsFormatted_thenNoDescriptionBreaksPicocliFormatting() {
        // picocli runs every description through String.format: a bare "%" prints a warning and the raw text
        List<String> broken = new ArrayList<>();
        check(new CommandLine(new Main()), broken);

        assertEquals(List.of(), broken, "descriptions with a bare % (write %% for a percent sign)");
    }

    private static void check(CommandLine cl, List<String> broken) {
        CommandSpec spec = cl.getCommandSpec();
        List<String> texts = new ArrayList<>(List.of(spec.usageMessage().description()));
        for (ArgSpec a : spec.args()) {
            texts.addAll(List.of(a.description()));
        }
        for (String t : texts) {
            try {
                String.format(t.replace("${DEFAULT-VALUE}", "x").replace("${COMPLETION-CANDIDATES}", "x"));
            } catch (IllegalFormatException e) {
                broken.add(spec.qualifiedName() + ": " + t);
            }
        }
        for (CommandLine sub : cl.getSubcommands().values()) {
            check(sub, broken);
        }
    }
}
