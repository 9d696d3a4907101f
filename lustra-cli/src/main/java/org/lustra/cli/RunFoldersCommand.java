package org.lustra.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** An {@code eval} command that reads run folders of one study and prints one Markdown document or writes it. */
abstract class RunFoldersCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "DIR", description = "Run folders of one study (folders `lustra eval run "
            + "--out` wrote), e.g. docs/results/hetero-gradients docs/results/hetero-vs-diffpure-seeds23.")
    List<Path> dirs;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the Markdown here instead of printing it.")
    Path out;

    /** The subcommand's name, as the document's header quotes the command. */
    abstract String name();

    /** What the confirmation line calls the written file. */
    abstract String what();

    abstract String render(List<Path> folders, String command);

    @Override
    public Integer call() {
        String command = "lustra eval " + name() + " " + dirs.stream().map(Path::toString)
                .collect(Collectors.joining(" "));
        Common.printOrWrite(render(dirs, command).getBytes(StandardCharsets.UTF_8), out, what());
        return 0;
    }
}
