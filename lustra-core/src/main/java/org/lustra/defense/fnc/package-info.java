/**
 * Feature norm clipping (Yu et al., 2021), a baseline of DIFFender's Table 1: a defence inside the classifier (a
 * {@link org.lustra.defense.FeatureDefense}) that clips each location's feature-vector norm after every stage of
 * Lustra's networks, attacked with its exact gradient; and the per-stage norm statistics its thresholds are chosen
 * from.
 */
package org.lustra.defense.fnc;
