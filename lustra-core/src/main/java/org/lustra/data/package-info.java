/**
 * Data: the IDX reader/writer, Fashion-MNIST, the OpenCV digits sheet, image files, and the shipped subsets
 * (validation split, 8-shot tuning set, fixed evaluation subset) that tests and the demo use.
 */
package org.lustra.data;
