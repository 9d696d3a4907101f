package org.lustra.eval;

/**
 * How a cell was run, as the manifest records it for every result: the defence spec, the attack id, the mode
 * ({@code mode@ROUTE} for a worst-of cell's per-route cell), the gradient route as text, the threat model and the
 * budget. Field names are part of the manifest format.
 */
public record CellInfo(String defense, String attack, String mode, String gradientMode, String threatModel,
        String budget) {

    /**
     * The defence as it ran: the purifier's own name with its settings (e.g. {@code hetero(tl=0.20 ts=0.05 …)}), read
     * back from {@link #threatModel} as {@code ThreatModels.threat} writes it; {@code none} for the undefended
     * classifier, and the spec when the text has another form. Two specs can name one defence
     * ({@code hetero} and its defaults spelt out) and one spec two defences (a default changed between runs): the
     * name tells which.
     */
    public String defendedBy() {
        if (threatModel == null) {
            return defense;
        }
        if (threatModel.startsWith(ThreatModels.UNDEFENDED)) {
            return "none";
        }
        int arrow = threatModel.indexOf(ThreatModels.ARROW);
        return arrow > 0 ? threatModel.substring(0, arrow) : defense;
    }
}
