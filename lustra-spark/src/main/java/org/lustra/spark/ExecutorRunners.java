package org.lustra.spark;

import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.eval.Experiment;
import org.lustra.eval.ExperimentRunner;
import org.lustra.model.Classifier;
import org.lustra.model.Classifiers;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;

/**
 * What an executor JVM keeps between chunks: classifiers (keyed by name and the SHA-256 of their weights) and one
 * runner per run (its defences, and the diffusion model they load, built once). A runner is used only after its
 * inputs have been checked against the run's manifest, so an executor with other weights or another subset refuses
 * in one sentence instead of writing different numbers into the driver's journal.
 */
final class ExecutorRunners {
    private static final Map<String, Classifier> CLASSIFIERS = new HashMap<>();
    private static final Map<String, ExperimentRunner> RUNNERS = new HashMap<>();
    private static int engineThreads;
    /** The JVM's thread count before the first chunk, restored by {@link #clear} (local masters share the driver's). */
    private static int threadsBefore;

    private ExecutorRunners() {}

    /** The runner of the run {@code spec} describes, built on first use in this JVM. */
    static synchronized ExperimentRunner runner(ChunkTask.Spec spec) {
        if (engineThreads != spec.engineThreads()) {
            // intra-op threads are global to the process; set before the first chunk of this JVM runs
            threadsBefore = engineThreads == 0 ? JniUtils.getNumThreads() : threadsBefore;
            JniUtils.setNumThreads(spec.engineThreads());
            engineThreads = spec.engineThreads();
        }
        String key = spec.directory() + "\n" + spec.experiment();
        ExperimentRunner runner = RUNNERS.get(key);
        if (runner == null) {
            runner = create(spec);
            RUNNERS.put(key, runner);
        }
        return runner;
    }

    private static ExperimentRunner create(ChunkTask.Spec spec) {
        Experiment exp = Json.GSON.fromJson(spec.experiment(), Experiment.class);
        String sha = Classifiers.sha256(exp.classifier());
        Classifier classifier = CLASSIFIERS.computeIfAbsent(exp.classifier() + "@" + sha,
                k -> Classifiers.open(exp.classifier()));
        ImageSet eval = Subsets.load(exp.subset() == null ? "eval512" : exp.subset());
        ImageSet train = Subsets.load("validation");
        if (eval.size() != spec.evalImages() || train.size() != spec.trainImages()) {
            throw new LustraException(where() + " loads " + eval.size() + " evaluation and " + train.size()
                    + " training images, but the driver's runner has " + spec.evalImages() + " and "
                    + spec.trainImages() + ": the Spark engine evaluates the inputs of `lustra eval run` (the "
                    + "experiment's subset, training images from data/validation).");
        }
        ExperimentRunner runner = new ExperimentRunner(exp, new ExperimentRunner.Inputs(classifier, eval, train),
                runDirectory(spec), System.err::println);
        Map<String, String> mine = runner.inputHashes();
        for (Map.Entry<String, String> e : spec.hashes().entrySet()) {
            if (!e.getValue().equals(mine.get(e.getKey()))) {
                runner.close();
                String here = mine.containsKey(e.getKey())
                        ? "has " + e.getKey() + " with SHA-256 " + mine.get(e.getKey())
                        : "does not load " + e.getKey();
                throw new LustraException(where() + " " + here + " but the run's manifest says " + e.getValue()
                        + "; give every executor the same models/ and data/ (lustra.home is " + LustraHome.root()
                        + ").");
            }
        }
        return runner;
    }

    /**
     * The driver's run directory where this JVM sees it (local masters, a shared file system), else a scratch one:
     * example panels and AdvP patches land there; the journal is the driver's alone.
     */
    private static Path runDirectory(ChunkTask.Spec spec) {
        Path dir = Path.of(spec.directory());
        if (Files.isDirectory(dir)) {
            return dir;
        }
        try {
            return Files.createTempDirectory("lustra-spark-" + dir.getFileName());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String where() {
        try {
            return "The executor on " + InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "An executor";
        }
    }

    /** Closes every runner and classifier of this JVM; for local masters, whose executor is the driver's JVM. */
    static synchronized void clear() {
        RUNNERS.values().forEach(ExperimentRunner::close);
        RUNNERS.clear();
        CLASSIFIERS.values().forEach(Classifier::close);
        CLASSIFIERS.clear();
        if (engineThreads != 0) {
            JniUtils.setNumThreads(threadsBefore);
            engineThreads = 0;
        }
    }
}
