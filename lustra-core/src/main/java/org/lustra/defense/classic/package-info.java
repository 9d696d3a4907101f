/**
 * Classic input transformations (JPEG, median smoothing, bit depth, local gradient smoothing): deterministic, passed by
 * BPDA when attacked.
 */
package org.lustra.defense.classic;
