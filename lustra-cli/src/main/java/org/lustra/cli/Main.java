package org.lustra.cli;

import java.io.PrintWriter;
import java.nio.file.FileSystemException;
import java.util.Locale;
import org.lustra.nn.NativeWarnings;
import org.lustra.util.LustraException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;

/** Entry point of the {@code lustra} command. */
@Command(name = "lustra", mixinStandardHelpOptions = true, version = "lustra 0.1.0-SNAPSHOT",
        description = {"Test-time input purification for image classifiers, evaluated against adaptive attacks.",
            "Run from the repository root (or set LUSTRA_HOME) so that the shipped models/ and data/ are found."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:Success.", "1:Bad input or failure (one sentence on stderr says what to do).",
            "2:Bad usage: unknown option, missing argument.",
            "3:Partial: some inputs were skipped (listed on stderr)."},
        subcommands = {DemoCommand.class, ClassifyCommand.class, PurifyCommand.class, ServeCommand.class,
            SampleCommand.class, InpaintCommand.class, AttackCommand.class, BenchCommand.class,
            TunePromptsCommand.class, DataCommand.class, TrainCommand.class, EvalCommand.class, CalibrateCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit codes, documented in the README and in {@code lustra --help}. */
    public static final int OK = 0;
    public static final int BAD_INPUT = 1;
    public static final int USAGE = 2;
    public static final int PARTIAL = 3;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns the exit code ({@link #OK}, {@link #BAD_INPUT}, {@link #USAGE}, {@link #PARTIAL}). */
    public static int execute(String... args) {
        // Lustra only draws into images (report charts, panels): headless AWT never looks for a display, which a
        // server has not. It must be set before the first AWT class asks; the launcher also passes it.
        System.setProperty("java.awt.headless", "true");
        CommandLine cli = new CommandLine(new Main());
        cli.setUsageHelpAutoWidth(true);
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            err.println("lustra: " + sentence(ex));
            if (System.getenv("LUSTRA_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            err.flush();
            return BAD_INPUT;
        });
        cli.setExecutionStrategy(parsed -> {
            // Every command that runs (not help or version) gets the engine's native warnings silenced first: at one
            // engine thread PyTorch prints an NNPACK line per small convolution on CPUs it does not support (thousands
            // per eval run). quiet() does nothing where it cannot.
            if (runsSomething(parsed)) {
                NativeWarnings.quiet();
            }
            return new CommandLine.RunLast().execute(parsed);
        });
        return cli.execute(args);
    }

    /** Whether the parsed command line runs a subcommand rather than printing help or the version. */
    private static boolean runsSomething(CommandLine.ParseResult parsed) {
        CommandLine.ParseResult p = parsed;
        boolean sub = false;
        while (true) {
            if (p.isUsageHelpRequested() || p.isVersionHelpRequested()
                    || p.commandSpec().userObject() instanceof HelpCommand) {
                return false;
            }
            if (!p.hasSubcommand()) {
                return sub;
            }
            p = p.subcommand();
            sub = true;
        }
    }

    /** The one sentence a user sees for {@code ex}: ours as written, file-system errors by path and reason. */
    static String sentence(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof LustraException || t instanceof IllegalArgumentException) {
                return t.getMessage();
            }
            if (t instanceof FileSystemException f) {
                String reason = f.getReason() != null ? f.getReason()
                        : f.getClass().getSimpleName().replace("Exception", "").replaceAll("([a-z])([A-Z])", "$1 $2")
                                .toLowerCase(Locale.ROOT);
                return "Cannot use " + f.getFile() + ": " + reason + ".";
            }
            if (t instanceof OutOfMemoryError) {
                return "Out of memory; give Java more (LUSTRA_JAVA_OPTS=-Xmx4g) or pass fewer inputs.";
            }
        }
        return "internal error: " + ex + " (set LUSTRA_DEBUG=1 for the stack trace)";
    }
}
