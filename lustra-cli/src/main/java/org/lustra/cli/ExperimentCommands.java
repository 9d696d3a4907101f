package org.lustra.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.eval.ChunkEngine;
import org.lustra.eval.Experiment;
import org.lustra.eval.ExperimentRunner;
import org.lustra.eval.Report;
import org.lustra.eval.Reproduction;
import org.lustra.eval.RunDirectory;
import org.lustra.eval.table1.Table1;
import org.lustra.model.Classifier;
import org.lustra.model.Classifiers;
import org.lustra.spark.SparkChunkEngine;
import org.lustra.util.Files2;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;
import org.lustra.util.Versions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lustra eval run}, {@code report}, {@code reproduce} and {@code table1}: the evaluation harness from the
 * command line.
 */
final class ExperimentCommands {
    private ExperimentCommands() {}

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = {"Run an experiment config (JSON: defences x attacks x budgets x modes x seeds, "
                    + "profile quick|paper; see experiments/ for examples).",
                "One JSON line per sample goes to <out>/samples.jsonl as it is produced; "
                    + "rerunning the same command resumes a killed run. The report is written at the "
                    + "end."})
    static final class Run implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "CONFIG", description = "Experiment config (JSON).")
        Path config;

        @Option(names = "--out", description = "Output directory (default: results/<experiment name>).")
        Path out;

        @Option(names = "--images", description = "Override the config's image count (e.g. 16 for a dry run).")
        Integer images;

        @Option(names = "--redo", paramLabel = "TEXT", description = {"Recompute the cells whose id contains "
                + "TEXT (e.g. advp) with the current code, keeping all other results; noted in the manifest and report. "
                + "Repeat it to redo the union (a cell two patterns match is computed once)."})
        List<String> redo;

        @Option(names = "--engine", paramLabel = "local|spark", defaultValue = "local",
                description = "Where the chunks are computed: local (this JVM, default) or spark (the journal and "
                        + "report are still written here; see README \"Scaling out\").")
        String engine;

        @Option(names = "--master", paramLabel = "URL", description = "Spark master for --engine spark: local[N] "
                + "(default local[2]) or spark://host:port.")
        String master;

        @Option(names = "--executor-threads", paramLabel = "N", defaultValue = "1", description = "Engine threads "
                + "per Spark task (default 1); executors x threads should not exceed the cores.")
        int executorThreads;

        @Override
        public Integer call() {
            if (!Files.isRegularFile(config)) {
                throw new LustraException("Experiment config " + config + " not found; see experiments/ for examples.");
            }
            Experiment exp = Experiment.read(config);
            ChunkEngine chunks = chunkEngine();
            if (images != null) {
                exp = new Experiment(exp.name(), exp.classifier(), exp.subset(), images, exp.profile(), exp.seeds(),
                        exp.defenses(), exp.modes(), exp.attacks(), exp.batch(), exp.gradient(), exp.diffusion(),
                        exp.paired(), exp.fullLength(), exp.skipFooled());
            }
            Path dir = out != null ? out : LustraHome.root().resolve("results").resolve(exp.name());
            ImageSet eval = Subsets.load(exp.subset());
            ImageSet train = Subsets.load("validation");
            requireTrainingImagesFit(exp);
            try (Classifier c = Classifiers.open(exp.classifier());
                    ExperimentRunner runner = new ExperimentRunner(exp, new ExperimentRunner.Inputs(c, eval, train),
                            dir, System.err::println)) {
                // once, before the redo touches the run folder: a committed run folder the redo rewrites is results,
                // not code, and two readings would differ and mark the redo "mixed" (never resumable)
                String commit = gitCommit(dir);
                String stale = buildNote(Versions.buildCommit(), commit);
                if (stale != null) {
                    System.err.println(stale);
                }
                if (redo != null && !redo.isEmpty()) {
                    runner.redo(redo, commit);
                }
                runner.run(runner.manifest(commit, Versions.describe()), chunks);
            }
            Report.Summary s = Report.write(dir);
            for (Report.CellSummary r : s.cells()) {
                System.out.printf(Locale.ROOT, "%-58s clean %6.2f%%  robust %6.2f%%  %s%n", r.cell(),
                        100 * r.cleanAccuracy(), 100 * r.robustMean(), r.gradientMode());
            }
            long failed = s.checks().stream().filter(ch -> !ch.passed()).count();
            System.out.println("Report: " + dir.resolve("report.md") + (failed > 0 ? "  (" + failed
                    + " sanity check(s) FAILED, see the report)" : "  (all sanity checks passed)"));
            return 0;
        }

        /**
         * AdvP trains its universal patch on data/validation, Fashion-MNIST images with Fashion-MNIST labels: against a
         * classifier of another dataset (digits-holdout with classifier-digits) that patch would chase the wrong labels.
         */
        private static void requireTrainingImagesFit(Experiment exp) {
            String source = Subsets.source(exp.subset());
            if (!source.startsWith("fashion-mnist")
                    && exp.attacks().stream().anyMatch(a -> a.attack().equals("advp"))) {
                throw new LustraException("AdvP trains its universal patch on data/validation (Fashion-MNIST images "
                        + "and labels) but " + exp.subset() + " comes from " + source + "; drop advp from " + exp.name()
                        + " (PGD, AutoAttack and the per-image patch attacks run on any subset).");
            }
        }

        private ChunkEngine chunkEngine() {
            if (engine.equals("spark")) {
                if (executorThreads < 1) {
                    throw new LustraException("--executor-threads must be at least 1, got " + executorThreads + ".");
                }
                return new SparkChunkEngine(master == null ? "local[2]" : master, executorThreads);
            }
            if (!engine.equals("local")) {
                throw new LustraException("--engine must be local or spark, got " + engine + ".");
            }
            if (master != null) {
                throw new LustraException("--master needs --engine spark.");
            }
            return ChunkEngine.LOCAL;
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Rebuild report.md/csv/json and the figures of a run directory from its samples.jsonl.")
    static final class ReportCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "Run directory.")
        Path dir;

        @Override
        public Integer call() {
            Report.Summary s = Report.write(dir);
            System.out.println("Report: " + dir.resolve("report.md") + " (" + s.cells().size() + " cells)");
            return 0;
        }
    }

    @Command(name = "reproduce", mixinStandardHelpOptions = true,
            description = {"Rerun K chunks of a finished run (spread over its journal) with the code at hand "
                    + "and compare every record field with the journal (wall-clock time excepted).",
                "Exit code 0 when all reproduce, 3 when some do not (a finding: the code now "
                    + "computes something else)."})
    static final class ReproduceCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "Run directory (e.g. docs/results/undefended-resnet).")
        Path dir;

        @Option(names = "--chunks", description = "Chunks to rerun (default ${DEFAULT-VALUE}).", defaultValue = "3")
        int chunks;

        @Override
        public Integer call() throws IOException {
            RunDirectory run = new RunDirectory(dir);
            if (!Files.isRegularFile(run.manifestFile())) {
                throw new LustraException(dir + " is not a run directory (no " + RunDirectory.MANIFEST
                        + "); give the folder `lustra eval run --out` wrote.");
            }
            if (chunks < 1) {
                throw new LustraException("--chunks must be at least 1, got " + chunks + ".");
            }
            Experiment exp = run.readManifest().experiment();
            Path work = Files.createTempDirectory("lustra-reproduce");
            Reproduction.Result r;
            try (Classifier c = Classifiers.open(exp.classifier())) {
                r = Reproduction.run(dir, new ExperimentRunner.Inputs(c, Subsets.load(exp.subset()),
                        Subsets.load("validation")), chunks, work, System.err::println);
            } finally {
                Files2.deleteTree(work); // the rerun's records were compared in memory; its scratch folder is not a result
            }
            System.out.println("Journal written at commit " + r.journalCommit() + "; rerun at " + gitCommit());
            for (Reproduction.ChunkResult ch : r.chunks()) {
                System.out.printf(Locale.ROOT, "%-70s %s%n", ch.key(), ch.reproduced() ? "reproduced ("
                        + ch.records() + " records)" : ch.differing() + " of " + ch.records()
                        + " records differ in " + ch.describe());
            }
            System.out.println(r.reproduced() ? "All " + r.chunks().size() + " chunks reproduce."
                    : "Some chunks do NOT reproduce with the code at hand.");
            return r.reproduced() ? 0 : 3;
        }
    }

    @Command(name = "table1", mixinStandardHelpOptions = true,
            description = {"Assemble the DIFFender Table 1 analogue from several run folders: FOLDER holds "
                    + "table1.json (run folders, columns, rows, the seed paper's numbers) and the run folders it "
                    + "lists (e.g. docs/results/table1-resnet).",
                "Reads their report.json and samples.jsonl (an unfinished run: the cells its journal completes, "
                    + "marked as such) and computes nothing the harness did not record, except the per-image worst "
                    + "case over a defence's adaptive attacks. Prints Markdown, or writes it to --out."})
    static final class Table1Command implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FOLDER", description = "Folder with table1.json and its run folders.")
        Path folder;

        @Option(names = "--out", paramLabel = "FILE", description = "Write the Markdown here instead of printing it "
                + "(e.g. docs/results/table1-resnet/TABLE.md).")
        Path out;

        @Override
        public Integer call() {
            Common.printOrWrite(Table1.markdown(folder, folder.toString()).getBytes(StandardCharsets.UTF_8), out,
                    "Table");
            return 0;
        }
    }

    /** HEAD of the repository at lustra.home, "-dirty" for uncommitted changes outside results, or "unknown". */
    static String gitCommit() {
        return gitCommit(LustraHome.root(), null);
    }

    /**
     * {@link #gitCommit()}, except that results do not make the code "-dirty": changes inside {@code runDir} (a run
     * folder committed in the repository, which every resumed or redone run rewrites) or under {@code docs/results}
     * (where other runs may be writing at the same time).
     */
    static String gitCommit(Path runDir) {
        return gitCommit(LustraHome.root(), runDir);
    }

    /**
     * A warning when the running jar was built from another commit than the checkout's HEAD (a jar copied aside so a
     * long run survives rebuilds, or an old build), else null. The manifest's {@code gitCommit} is HEAD; the code that
     * computes the records is the build's, so the two must be told apart. Null when either is unknown.
     */
    static String buildNote(String build, String head) {
        if (build == null || head == null || Versions.UNKNOWN.equals(build) || "unknown".equals(head)) {
            return null;
        }
        String b = build.replace("-dirty", "");
        String h = head.replace("-dirty", "");
        if (b.equals(h)) {
            return null;
        }
        return "Note: this jar was built from commit " + abbrev(build) + " but the checkout is at " + abbrev(head)
                + "; the manifest records both (gitCommit, versions.build). Rebuild (./lustra does) to run the "
                + "checkout's code.";
    }

    private static String abbrev(String commit) {
        return commit.length() > 12 && commit.matches("[0-9a-f]{40}.*") ? commit.substring(0, 12)
                + commit.substring(40) : commit;
    }

    /** Where committed results live, relative to the repository's top: not code. */
    static final String RESULTS = "docs/results";

    /**
     * HEAD of the repository holding {@code root}, "-dirty" for uncommitted tracked changes outside {@link #RESULTS}
     * and outside {@code exclude} (null: nothing more); "unknown" without git.
     */
    static String gitCommit(Path root, Path exclude) {
        try {
            String head = git(root, "rev-parse", "HEAD");
            String top = git(root, "rev-parse", "--show-toplevel");
            if (head == null || top == null || !head.matches("[0-9a-f]{40}")) {
                return "unknown";
            }
            List<String> status = new ArrayList<>(List.of("status", "--porcelain", "--untracked-files=no", "--",
                    ":(top)", ":(top,exclude,literal)" + RESULTS));
            Path topDir = Path.of(top).toRealPath();
            Path ex = exclude == null || !Files.exists(exclude) ? null : exclude.toRealPath();
            if (ex != null && ex.startsWith(topDir) && !ex.equals(topDir)) {
                // git pathspecs use '/' on every platform
                status.add(":(top,exclude,literal)" + topDir.relativize(ex).toString().replace('\\', '/'));
            }
            String dirty = git(root, status.toArray(String[]::new));
            if (dirty == null) {
                return "unknown";
            }
            return head + (dirty.isEmpty() ? "" : "-dirty");
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    /** {@code git ARGS} run in {@code dir}: its trimmed output, or null when git fails. */
    private static String git(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        return p.waitFor() == 0 ? out : null;
    }
}
