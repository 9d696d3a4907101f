/**
 * Threshold calibration on data/validation ({@code lustra calibrate}): a grid of explicit specs of DW, FNC, the
 * SAC-like defence or Jedi measured on clean and patched validation images, chosen by a stated rule
 * ({@link org.lustra.eval.calibration.Calibrator}), written with every measurement
 * ({@link org.lustra.eval.calibration.Calibration}) where {@link org.lustra.defense.Calibrations} makes it the bare
 * spec's default.
 */
package org.lustra.eval.calibration;
