package org.lustra.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.lustra.eval.worst.SeedsAcrossRuns;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lustra eval seeds}: each cell's mean ± std over run seeds kept in several run folders. */
@Command(name = "seeds", mixinStandardHelpOptions = true,
        description = {"Each cell's robust accuracy as mean ± std over run seeds that live in several run folders of "
                + "one study (e.g. seed 1 in one folder, seeds 2 and 3 in another), cells matched by id. Refused, in "
                + "one sentence: a cell whose threat model, budget or gradient route differs between folders, a seed "
                + "found in two folders, folders of different image counts.",
            "Reads manifest.json and samples.jsonl; unfinished runs join with the records they have, and a cell that "
                + "lacks images of a seed or a whole seed is marked unfinished. Prints Markdown, or writes it to "
                + "--out."})
final class SeedsCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "DIR", description = "Run folders (e.g. docs/results/hetero-gradients "
            + "docs/results/hetero-vs-diffpure-seeds23).")
    List<Path> dirs;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the Markdown here instead of printing it.")
    Path out;

    @Override
    public Integer call() {
        String command = "lustra eval seeds " + dirs.stream().map(Path::toString).collect(Collectors.joining(" "));
        Common.printOrWrite(SeedsAcrossRuns.markdown(SeedsAcrossRuns.of(dirs), command)
                .getBytes(StandardCharsets.UTF_8), out, "Seeds");
        return 0;
    }
}
