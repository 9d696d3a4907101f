/**
 * Data: the IDX reader/writer, Fashion-MNIST, the OpenCV digits sheet, image files, the shipped subsets (validation
 * split, 8-shot tuning set, fixed evaluation subset and its tone-shifted copy) that tests and the demo use, and the
 * distribution shifts of seed 003's study: Reinhard tone/colour transfer and CIFAR-10-C's brightness and contrast.
 */
package org.lustra.data;
