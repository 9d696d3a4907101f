package org.lustra.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.lustra.eval.ChunkEngine;
import org.lustra.eval.ExperimentRunner;
import org.lustra.eval.RunDirectory;
import org.lustra.eval.SampleRecord;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;

/**
 * Computes a run's pending chunks on Spark: one task per chunk, each run by {@link ChunkTask} in an executor. The
 * driver hands the records to the runner's journal in the order of the pending chunks as they arrive, so the journal
 * reads as the local engine's. A failed task is retried by Spark ({@code spark.task.maxFailures}; {@code local[N,F]}
 * for local masters) and its chunk reaches the journal once, whole; a job that fails for good stops the run with the
 * chunks before it written, and rerunning the command resumes.
 *
 * <p>Sizing: every task gets {@code engineThreads} cores ({@code spark.task.cpus}) and an executor runs one chunk at a
 * time ({@link ChunkTask}), so give executors {@code spark.executor.cores = engineThreads}; engine threads × executors
 * ≤ cores of each machine. Spark settings given as {@code -Dspark.…} system properties (e.g. through
 * {@code LUSTRA_JAVA_OPTS}) take precedence over the defaults set here.
 */
public final class SparkChunkEngine implements ChunkEngine {
    static final int STOP_GRACE_SECONDS = 5;
    private final String master;
    private final int engineThreads;

    /**
     * @param master a Spark master URL: {@code local[N]}, {@code local[N,F]} or {@code spark://host:port}
     * @param engineThreads PyTorch intra-op threads of each task (≥ 1)
     */
    public SparkChunkEngine(String master, int engineThreads) {
        if (master == null || master.isBlank()) {
            throw new IllegalArgumentException("Invalid Spark master: '" + master + "' (need local[N] or "
                    + "spark://host:port)");
        }
        if (engineThreads < 1) {
            throw new IllegalArgumentException("Invalid engine threads per task: " + engineThreads + " (need ≥ 1)");
        }
        this.master = master;
        this.engineThreads = engineThreads;
    }

    @Override
    public void compute(ExperimentRunner runner, List<RunDirectory.ChunkKey> pending, Sink sink) {
        if (pending.isEmpty()) {
            return;
        }
        ChunkTask.Spec spec = ChunkTask.Spec.of(runner, engineThreads);
        // spark-submit passes it (JavaModuleOptions); Spark's Netty reaches direct buffers with it on Java 17
        System.getProperties().putIfAbsent("io.netty.tryReflectionSetAccessible", "true");
        try (JavaSparkContext sc = new JavaSparkContext(conf(runner.experiment().name()))) {
            List<String> keys = pending.stream().map(RunDirectory.ChunkKey::text).toList();
            JavaRDD<String[]> chunks = tasks(sc, spec, keys);
            // one job per chunk, several in flight: a job's result comes back whole when its task ends, where one job
            // over all chunks would hand nothing to the driver before the last one
            ExecutorService jobs = Executors.newFixedThreadPool(Math.max(2, 2 * sc.defaultParallelism()), r -> {
                Thread t = new Thread(r, "lustra-spark-job");
                t.setDaemon(true);
                return t;
            });
            try {
                List<Future<String[]>> results = new ArrayList<>();
                for (int i = 0; i < keys.size(); i++) {
                    int partition = i;
                    results.add(jobs.submit(() -> chunks.collectPartitions(new int[] {partition})[0].get(0)));
                }
                for (int i = 0; i < keys.size(); i++) {
                    sink.accept(pending.get(i), records(await(results.get(i), keys.get(i), sc.sc()::isStopped)));
                }
            } finally {
                jobs.shutdownNow();
                // a cluster may have stopped the context (the master removed the application): cancelling would
                // throw and hide the sentence about the failed chunk
                if (!sc.sc().isStopped()) {
                    sc.cancelAllJobs();
                }
            }
        } finally {
            if (master.startsWith("local")) {
                ExecutorRunners.clear();
            }
        }
    }

    /** One partition (and so one task) per chunk; the closure holds only the serializable spec. */
    private static JavaRDD<String[]> tasks(JavaSparkContext sc, ChunkTask.Spec spec, List<String> keys) {
        return sc.parallelize(keys, keys.size()).map(key -> ChunkTask.compute(spec, key));
    }

    private SparkConf conf(String experiment) {
        String threads = Integer.toString(engineThreads);
        String dnnl = System.getenv("DNNL_MAX_CPU_ISA");
        SparkConf conf = new SparkConf() // reads spark.* system properties first
                .setMaster(master)
                .setAppName("lustra eval " + experiment)
                .setIfMissing("spark.ui.enabled", "false") // a batch run has no use for a web UI and its port
                .setIfMissing("spark.task.cpus", threads)
                .setIfMissing("spark.executor.cores", threads)
                // executors of a cluster start with their worker's environment, not ./lustra's; see
                // ConvolutionCheck for why this one matters
                .setIfMissing("spark.executorEnv.DNNL_MAX_CPU_ISA", dnnl == null ? "AVX" : dnnl);
        String logLevel = System.getenv("TORCH_CPP_LOG_LEVEL");
        if (logLevel != null) {
            conf.setIfMissing("spark.executorEnv.TORCH_CPP_LOG_LEVEL", logLevel); // NativeWarnings applies it
        }
        // The user's executor options (a -Dspark.executor.extraJavaOptions property) come after Lustra's: they add to
        // them and win for the same property, where replacing them would leave the executors without lustra.home.
        String lustraOptions = "-Dai.djl.offline=true -Dlustra.home=" + LustraHome.root()
                + " -Dai.djl.pytorch.num_threads=" + threads;
        conf.set("spark.executor.extraJavaOptions", (lustraOptions + " "
                + conf.get("spark.executor.extraJavaOptions", "")).trim());
        if (!master.startsWith("local")) {
            // every node is expected to hold the checkout (jar, lib/, models/, data/) at the driver's path
            conf.setIfMissing("spark.executor.extraClassPath", System.getProperty("java.class.path"));
        }
        return conf;
    }

    /**
     * The lines of a chunk's job. Waiting also ends when the context has stopped ({@code stopped}): Spark stops it when
     * the master removes the application (for example when no executor could start), and a job whose submission was
     * still queued then is never failed, so its caller would wait forever (seen with scripts/spark-cluster-test.sh's
     * cluster and executors that could not launch: the driver hung in 3 of 4 tries, and in none of 6 since).
     */
    static String[] await(Future<String[]> result, String key, BooleanSupplier stopped) {
        try {
            while (true) {
                try {
                    return result.get(1, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    if (stopped.getAsBoolean()) {
                        return afterStop(result, key);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LustraException("Interrupted while waiting for chunk " + key + ".", e);
        } catch (ExecutionException e) {
            String cause = String.valueOf(e.getCause().getMessage()).lines().findFirst().orElse("");
            throw new LustraException("Spark could not compute chunk " + key + " (" + cause + "); the chunks before "
                    + "it are in the journal, rerun the command to resume.", e.getCause());
        }
    }

    /** A job that Spark's stop fails reports its own reason within moments; one it lost never will. */
    private static String[] afterStop(Future<String[]> result, String key)
            throws InterruptedException, ExecutionException {
        try {
            return result.get(STOP_GRACE_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new LustraException("Spark stopped the application before chunk " + key + " was computed (its "
                    + "log above says why, e.g. the master removed it when no executor could start); the chunks "
                    + "before it are in the journal, rerun the command to resume.");
        }
    }

    private static List<SampleRecord> records(String[] lines) {
        return Arrays.stream(lines).map(RunDirectory::record).toList();
    }
}
