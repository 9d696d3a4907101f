package org.lustra.eval;

import java.util.List;

/**
 * Where the pending chunks of a run are computed. The {@link ExperimentRunner} decides which chunks are pending
 * (resume) and writes the journal; an engine only computes: {@link #LOCAL} in this JVM, one chunk after another, or
 * the engine of {@code lustra-spark} on a cluster. Every engine computes a chunk with
 * {@link ExperimentRunner#computeChunk} — on the driver's runner or on an equal one built in another JVM — so all
 * engines give the same records: a chunk's random draws come from (run seed, cell, chunk) alone, never from which
 * JVM ran it or when.
 */
public interface ChunkEngine {

    /** Takes the records of finished chunks; the runner's sink appends each complete chunk to the journal once. */
    @FunctionalInterface
    interface Sink {
        void accept(RunDirectory.ChunkKey key, List<SampleRecord> records);
    }

    /**
     * Computes {@code pending} (chunks of {@code runner}'s experiment) and hands each chunk's records to {@code sink}
     * as a whole, from the calling thread. Engines keep the order of {@code pending}, so every engine writes its
     * journal in the same order.
     */
    void compute(ExperimentRunner runner, List<RunDirectory.ChunkKey> pending, Sink sink);

    /** This JVM, one chunk at a time (the default). */
    ChunkEngine LOCAL = (runner, pending, sink) -> {
        for (RunDirectory.ChunkKey key : pending) {
            sink.accept(key, runner.computeChunk(key));
        }
    };
}
