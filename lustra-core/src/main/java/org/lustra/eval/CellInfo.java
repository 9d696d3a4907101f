package org.lustra.eval;

/**
 * How a cell was run, as the manifest records it for every result: the defence spec, the attack id, the mode
 * ({@code mode@ROUTE} for a worst-of cell's per-route cell), the gradient route as text, the threat model and the
 * budget. Field names are part of the manifest format.
 */
public record CellInfo(String defense, String attack, String mode, String gradientMode, String threatModel,
        String budget) {}
