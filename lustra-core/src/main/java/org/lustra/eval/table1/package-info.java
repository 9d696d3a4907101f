/**
 * The DIFFender Table 1 analogue ({@code lustra eval table1}): {@link org.lustra.eval.table1.Table1Spec} reads
 * {@code table1.json} (run folders, columns, rows, the seed paper's numbers), {@link org.lustra.eval.table1.Table1Runs}
 * the cells and journal records of those run folders (finished ones through their report, unfinished ones from the
 * cells their journal completes), {@code Table1WorstCase} the cells a defence's per-image
 * {@link org.lustra.eval.worst.WorstCase} is taken over, and {@code Table1Markdown} writes the document;
 * {@link org.lustra.eval.table1.Table1} ties them.
 */
package org.lustra.eval.table1;
