/**
 * The evaluation harness on Apache Spark ({@code lustra eval run --engine spark}). The unit of work is the harness's
 * own: one chunk of one cell under one run seed ({@link org.lustra.eval.RunDirectory.ChunkKey}). The driver decides
 * which chunks are pending and writes the journal and the report ({@link org.lustra.eval.ExperimentRunner});
 * {@link org.lustra.spark.SparkChunkEngine} sends the pending chunks to executors, where
 * {@code ChunkTask} computes each with the same per-chunk code as the local engine
 * ({@link org.lustra.eval.ExperimentRunner#computeChunk}) on models loaded once per JVM and checked against the run's
 * manifest ({@code ExecutorRunners}). A chunk's random draws derive from (run seed, cell, chunk) alone, so the records
 * do not depend on which executor computed them or when.
 */
package org.lustra.spark;
