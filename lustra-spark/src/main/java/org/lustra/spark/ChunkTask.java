package org.lustra.spark;

import ai.djl.pytorch.jni.JniUtils;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.lustra.eval.ExperimentRunner;
import org.lustra.eval.RunDirectory;
import org.lustra.eval.SampleRecord;
import org.lustra.nn.NativeWarnings;
import org.lustra.util.Json;

/**
 * One chunk computed in an executor JVM: the executor's runner (built once per JVM, {@link ExecutorRunners}) computes
 * it with {@link ExperimentRunner#computeChunk}, and the records travel back to the driver as their journal lines.
 */
final class ChunkTask {
    /**
     * DJL allows one {@code GradientCollector} per JVM at a time (a static flag; a second one throws), and every
     * gradient attack opens one: the chunks of one JVM take turns. An executor should therefore have one task slot
     * ({@code spark.task.cpus} = {@code spark.executor.cores}), its cores going to the engine's threads.
     */
    private static final Object ONE_CHUNK_PER_JVM = new Object();

    private ChunkTask() {}

    /**
     * What an executor needs to build a runner equal to the driver's, small and serializable (the experiment as its
     * JSON): the run directory (used as is where the executor can see it, for example panels and AdvP patches), the
     * manifest's input hashes the executor's models and subset must have, the sizes of the driver's evaluation and
     * training sets (executors load the standard ones of {@code lustra eval run}), and the engine threads per task.
     */
    record Spec(String experiment, String directory, TreeMap<String, String> hashes, int evalImages, int trainImages,
            int engineThreads) implements Serializable {
        static Spec of(ExperimentRunner runner, int engineThreads) {
            Map<String, String> hashes = runner.directory().readManifest().hashes();
            return new Spec(Json.GSON.toJson(runner.experiment()), runner.directory().path().toAbsolutePath()
                    .toString(), hashes == null ? new TreeMap<>() : new TreeMap<>(hashes),
                    runner.inputs().eval().size(), runner.inputs().train().size(), engineThreads);
        }
    }

    /** Computes the chunk {@code key} ({@link RunDirectory.ChunkKey#text}) and returns its records as journal lines. */
    static String[] compute(Spec spec, String key) {
        synchronized (ONE_CHUNK_PER_JVM) {
            // An executor of a cluster is a fresh JVM: JniUtils' natives exist only once the engine has loaded PyTorch
            // (with local masters the driver had; found by scripts/spark-cluster-test.sh), and the engine must be set
            // up as the driver's is (NNPACK off, so the same convolution path; PyTorch's log level)
            NativeWarnings.quiet();
            // Spark's task threads are new to PyTorch, which starts them with grad mode on: forwards would record
            // graphs and leak (DJL-NOTES). The attacks switch it on where they need it.
            JniUtils.setGradMode(false);
            List<SampleRecord> records = ExecutorRunners.runner(spec).computeChunk(RunDirectory.ChunkKey.parse(key));
            return records.stream().map(RunDirectory::line).toArray(String[]::new);
        }
    }
}
