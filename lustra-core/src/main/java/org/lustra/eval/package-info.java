/**
 * The evaluation harness (SPEC §7): an experiment is a small JSON config (defences × attacks × budgets × modes ×
 * seeds, profile quick or paper); the runner writes one JSON line per sample as results are produced, so a killed run
 * resumes where it stopped and nothing finished is lost; the report aggregates the lines into Markdown, CSV and JSON
 * with mean ± std over runs, a confidence interval per cell, sanity checks, and PNG figures. Every cell records its
 * threat model, budget, gradient mode and image count.
 */
package org.lustra.eval;
