package org.lustra.serve;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.lustra.app.Workbench;

/**
 * A fixed number of worker threads in front of the models, with a bounded queue: a request that finds the queue full
 * is refused at once (503 with Retry-After) instead of piling up threads and memory. Each worker turns PyTorch's
 * thread-local grad mode off when it starts.
 */
final class WorkerPool implements AutoCloseable {
    private final ThreadPoolExecutor executor;
    private final int workers;
    private final long timeoutSeconds;
    /** Smoothed service time of one job, for Retry-After. */
    private volatile double meanSeconds = 1.0;

    WorkerPool(int workers, int queue, long timeoutSeconds) {
        this.workers = workers;
        this.timeoutSeconds = timeoutSeconds;
        AtomicInteger n = new AtomicInteger();
        // a SynchronousQueue for queue = 0: a job runs only if a worker is free
        BlockingQueue<Runnable> q = queue == 0 ? new SynchronousQueue<>()
                : new ArrayBlockingQueue<>(queue);
        this.executor = new ThreadPoolExecutor(workers, workers, 0, TimeUnit.SECONDS, q, r -> {
            Thread t = new Thread(() -> {
                Workbench.noGradOnThisThread();
                r.run();
            }, "lustra-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
        executor.prestartAllCoreThreads();
    }

    /** Runs {@code job} on a worker and waits for it; 503 when the queue is full or the job times out. */
    <T> T call(Callable<T> job) throws Exception {
        Future<T> f;
        try {
            f = executor.submit(() -> {
                long t0 = System.nanoTime();
                try {
                    return job.call();
                } finally {
                    meanSeconds = 0.8 * meanSeconds + 0.2 * (System.nanoTime() - t0) / 1e9;
                }
            });
        } catch (RejectedExecutionException e) {
            throw new ApiError(503, "The server is busy (" + queued() + " requests waiting for " + workers
                    + " worker(s)); retry after the time in Retry-After.", retryAfterSeconds());
        }
        try {
            return f.get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new ApiError(503, "The request took longer than " + timeoutSeconds + " s and was cancelled; retry "
                    + "later or choose a faster defence.", retryAfterSeconds());
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
    }

    /** Seconds until a slot is likely free: the queue ahead, served by all workers, at the recent service time. */
    int retryAfterSeconds() {
        return (int) Math.max(1, Math.ceil(meanSeconds * (queued() + workers) / workers));
    }

    int queued() {
        return executor.getQueue().size();
    }

    int active() {
        return executor.getActiveCount();
    }

    int workers() {
        return workers;
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
