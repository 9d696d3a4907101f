package org.lustra.cli;

import java.io.PrintWriter;
import org.lustra.util.LustraException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code lustra} command. */
@Command(name = "lustra", mixinStandardHelpOptions = true, version = "lustra 0.1.0-SNAPSHOT",
        description = {"Test-time input purification for image classifiers, evaluated against adaptive attacks.",
            "Run from the repository root (or set LUSTRA_HOME) so the shipped models/ and data/ are found."},
        subcommands = {DemoCommand.class, ClassifyCommand.class, PurifyCommand.class, SampleCommand.class,
            InpaintCommand.class, AttackCommand.class, BenchCommand.class, TunePromptsCommand.class,
            DataCommand.class, TrainCommand.class,
            EvalCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns the exit code (0 ok, 1 failure, 2 bad usage). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            Throwable t = ex;
            while (t.getCause() != null && !(t instanceof LustraException) && !(t instanceof IllegalArgumentException)) {
                t = t.getCause();
            }
            if (t instanceof LustraException || t instanceof IllegalArgumentException) {
                err.println("lustra: " + t.getMessage());
            } else {
                err.println("lustra: internal error: " + ex + " (set LUSTRA_DEBUG=1 for the stack trace)");
            }
            if (System.getenv("LUSTRA_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            err.flush();
            return 1;
        });
        return cli.execute(args);
    }
}
