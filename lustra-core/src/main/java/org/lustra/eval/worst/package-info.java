/**
 * Per-image worst cases over several attacks ({@code lustra eval worst}): {@link org.lustra.eval.worst.WorstCase}
 * counts the images that survive every attack with a record of them, {@link org.lustra.eval.worst.CrossRunWorst}
 * groups the cells of several run folders by defence and {@link org.lustra.eval.worst.Threat} (an attacker with one
 * budget may pick any attack, adaptive or transferred, per image), and {@link org.lustra.eval.worst.WorstMarkdown}
 * writes the document. Table 1 ({@code org.lustra.eval.table1}) takes its worst-case column from here too.
 */
package org.lustra.eval.worst;
