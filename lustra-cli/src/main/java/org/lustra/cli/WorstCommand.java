package org.lustra.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.lustra.eval.worst.CrossRunWorst;
import org.lustra.eval.worst.WorstMarkdown;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lustra eval worst}: the per-image worst case over every attack of several run folders. */
@Command(name = "worst", mixinStandardHelpOptions = true,
        description = {"The per-image worst case over every attack tried on each defence, across run folders of one "
                + "study (same classifier and subset): cells of one defence and one budget (ℓ∞ ε, ℓ2 ε, patch size) "
                + "form a row, and an image counts as robust only if it survived every one of them — adaptive, "
                + "non-adaptive (transferred) and black-box alike.",
            "Reads manifest.json and samples.jsonl (unfinished runs join with the records they have). Prints "
                + "Markdown, or writes it to --out."})
final class WorstCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "DIR", description = "Run folders (e.g. docs/results/maep-study-digits-"
            + "shuffled docs/results/maep-study-digits-shuffled-adaptive-strong).")
    List<Path> dirs;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the Markdown here instead of printing it.")
    Path out;

    @Override
    public Integer call() {
        String command = "lustra eval worst " + dirs.stream().map(Path::toString).collect(Collectors.joining(" "));
        Common.printOrWrite(WorstMarkdown.render(CrossRunWorst.of(dirs), command).getBytes(StandardCharsets.UTF_8),
                out, "Worst case");
        return 0;
    }
}
