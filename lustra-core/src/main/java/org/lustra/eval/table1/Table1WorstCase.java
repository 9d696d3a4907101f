package org.lustra.eval.table1;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.lustra.eval.SampleRecord;
import org.lustra.eval.worst.ImageKey;
import org.lustra.eval.worst.WorstCase;

/**
 * Table 1's worst-case column: which cells a defence's per-image {@link WorstCase} is taken over. An image counts as
 * robust only if it survived each of its adaptive attacks and, where run, the non-adaptive cell of the same attack (a
 * patch made without the defence in mind is one the attacker can pick: adding those cells on 3 December moved the
 * resnet table's JPEG 8.6 → 5.1 %, DW 11.7 → 5.9 %, FNC 12.5 → 5.9 %). Counted on the images the adaptive cells share.
 * The harness records each cell on its own; this is the one number the table computes itself.
 */
final class Table1WorstCase {
    private Table1WorstCase() {}

    /** The cell id of a defence's attack in a mode ({@code none} for the undefended classifier, which has one mode). */
    static String cellId(String defense, String attack, String mode) {
        return defense + "|" + attack + "|" + ("none".equals(defense) ? "none" : mode);
    }

    /**
     * The worst case of {@code defense} over the adaptive cells of {@code required} (all must have records) and of
     * {@code optional} where they have, and the non-adaptive cells of both lists where they have; empty when a required
     * adaptive cell is missing or the adaptive cells share no image. A non-adaptive cell on fewer images only decides
     * the images it has.
     */
    static Optional<WorstCase> of(String defense, List<String> required, List<String> optional,
            Map<String, Map<ImageKey, SampleRecord>> records) {
        List<String> ids = new ArrayList<>();
        for (String attack : required) {
            ids.add(cellId(defense, attack, Table1Spec.ADAPTIVE));
        }
        if (!records.keySet().containsAll(ids)) {
            return Optional.empty();
        }
        for (String attack : optional) {
            String id = cellId(defense, attack, Table1Spec.ADAPTIVE);
            if (records.containsKey(id)) {
                ids.add(id);
            }
        }
        Set<ImageKey> common = new HashSet<>(records.get(ids.get(0)).keySet());
        ids.forEach(id -> common.retainAll(records.get(id).keySet()));
        if (common.isEmpty()) {
            return Optional.empty();
        }
        // the undefended classifier's cells have one id for both modes: each joins once
        Set<String> all = new LinkedHashSet<>(ids);
        for (String attack : Stream.concat(required.stream(), optional.stream()).toList()) {
            String id = cellId(defense, attack, Table1Spec.NONADAPTIVE);
            if (records.containsKey(id)) {
                all.add(id);
            }
        }
        return Optional.of(WorstCase.over(common, all.stream().map(records::get).toList()));
    }
}
