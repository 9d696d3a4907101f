package org.lustra.cli;

import java.nio.file.Path;
import java.util.List;
import org.lustra.eval.worst.SeedsAcrossRuns;
import org.lustra.eval.worst.SeedsMarkdown;
import picocli.CommandLine.Command;

/** {@code lustra eval seeds}: each cell's mean ± std over run seeds kept in several run folders. */
@Command(name = "seeds", mixinStandardHelpOptions = true,
        description = {"Each cell's robust accuracy as mean ± std over run seeds that live in several run folders of "
                + "one study (e.g. seed 1 in one folder, seeds 2 and 3 in another), cells matched by id. Refused, in "
                + "one sentence: a cell whose threat model, budget or gradient route differs between folders, a seed "
                + "found in two folders, folders of different image counts.",
            "Reads manifest.json and samples.jsonl; unfinished runs join with the records they have, and a cell that "
                + "lacks images of a seed or a whole seed is marked unfinished. Prints Markdown, or writes it to "
                + "--out."})
final class SeedsCommand extends RunFoldersCommand {
    @Override
    String name() {
        return "seeds";
    }

    @Override
    String what() {
        return "Seeds";
    }

    @Override
    String render(List<Path> folders, String command) {
        return SeedsMarkdown.render(SeedsAcrossRuns.of(folders), command);
    }
}
