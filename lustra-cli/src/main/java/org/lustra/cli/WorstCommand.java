package org.lustra.cli;

import java.nio.file.Path;
import java.util.List;
import org.lustra.eval.worst.CrossRunWorst;
import org.lustra.eval.worst.WorstMarkdown;
import picocli.CommandLine.Command;

/** {@code lustra eval worst}: the per-image worst case over every attack of several run folders. */
@Command(name = "worst", mixinStandardHelpOptions = true,
        description = {"The per-image worst case over every attack tried on each defence, across run folders of one "
                + "study (same classifier and subset): cells of one defence and one budget (ℓ∞ ε, ℓ2 ε, patch size) "
                + "form a row, and an image counts as robust only if it survived every one of them — adaptive, "
                + "non-adaptive (transferred) and black-box alike.",
            "Reads manifest.json and samples.jsonl (unfinished runs join with the records they have). Prints "
                + "Markdown, or writes it to --out."})
final class WorstCommand extends RunFoldersCommand {
    @Override
    String name() {
        return "worst";
    }

    @Override
    String what() {
        return "Worst case";
    }

    @Override
    String render(List<Path> folders, String command) {
        return WorstMarkdown.render(CrossRunWorst.of(folders), command);
    }
}
