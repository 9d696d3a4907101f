package org.lustra.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.lustra.util.LustraException;

/**
 * How the driver waits for a chunk's job when Spark stops the application under it (the master removes it, e.g. when
 * no executor could start): a job Spark lost must end the run with a sentence, not hang it; one Spark failed keeps its
 * own reason; a slow job on a running context is simply waited for.
 */
class SparkChunkEngineStopTest {
    static final String KEY = "1#none|pgd-linf-0.1000-s2|none#0";

    @Test
    void givenAJobTheStoppedContextLost_whenAwaited_thenTheRunEndsWithASentenceNamingTheChunk() {
        CompletableFuture<String[]> lost = new CompletableFuture<>();

        LustraException e = assertTimeoutPreemptively(Duration.ofSeconds(SparkChunkEngine.STOP_GRACE_SECONDS + 20),
                () -> assertThrows(LustraException.class, () -> SparkChunkEngine.await(lost, KEY, () -> true)));

        assertTrue(e.getMessage().contains(KEY) && e.getMessage().contains("rerun the command"), e.getMessage());
    }

    @Test
    void givenAJobTheStopFailsMomentsLater_whenAwaited_thenItsOwnReasonIsReported() {
        CompletableFuture<String[]> failed = new CompletableFuture<>();
        CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS).execute(() -> failed.completeExceptionally(
                new IllegalStateException("Job 3 cancelled because SparkContext was shut down")));

        LustraException e = assertThrows(LustraException.class, () -> SparkChunkEngine.await(failed, KEY, () -> true));

        assertTrue(e.getMessage().contains("cancelled because SparkContext was shut down"), e.getMessage());
    }

    @Test
    void givenARunningContext_whenAJobTakesSeveralPolls_thenItsLinesAreReturned() {
        CompletableFuture<String[]> slow = new CompletableFuture<>();
        CompletableFuture.delayedExecutor(2500, TimeUnit.MILLISECONDS).execute(() -> slow.complete(new String[] {"a"}));

        String[] lines = SparkChunkEngine.await(slow, KEY, () -> false);

        assertArrayEquals(new String[] {"a"}, lines);
    }
}
