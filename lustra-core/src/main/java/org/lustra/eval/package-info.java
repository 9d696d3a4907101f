/**
 * The evaluation harness (SPEC §7): an experiment is a small JSON config (defences × attacks × budgets × modes ×
 * seeds, profile quick or paper); the runner writes one JSON line per sample as results are produced, so a killed run
 * resumes where it stopped and nothing finished is lost; the report aggregates the lines into Markdown, CSV and JSON
 * with mean ± std over runs, a confidence interval per cell, sanity checks, and PNG figures. Every cell records its
 * threat model, budget, gradient mode and image count.
 *
 * <p>Who does what: {@link org.lustra.eval.AttackRegistry} turns a config's attack entry into an attack with the
 * profile's defaults; {@link org.lustra.eval.ExperimentRunner} lists the pending chunks (seeds × cells × chunks),
 * has a {@link org.lustra.eval.ChunkEngine} compute them (in this JVM, or on Spark through {@code lustra-spark}) and
 * appends each whole chunk to the journal once ({@code JournalSink});
 * {@code ChunkRunner} attacks and judges one chunk through its {@link org.lustra.eval.Route}s;
 * {@code Scoring} makes the per-sample records; {@code ThreatModels} writes the text every
 * cell carries; {@link org.lustra.eval.UniversalPatches} trains and caches AdvP patches;
 * {@link org.lustra.eval.RunDirectory} owns the on-disk format (manifest, journal, patches, examples) that the runner,
 * {@link org.lustra.eval.Reproduction} and {@link org.lustra.eval.Report} share.
 */
package org.lustra.eval;
