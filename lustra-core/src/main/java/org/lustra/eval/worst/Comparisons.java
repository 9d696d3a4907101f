package org.lustra.eval.worst;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.lustra.eval.PairedRows;

/**
 * Two defences under one threat compared on the attacks both met: each side's per-image worst case over its cells of
 * those attacks (family, mode and profile), on the images all those cells have, with McNemar's exact test on the
 * discordant images. Comparing each row's worst case over everything it met would set a defence attacked by AutoAttack
 * at the paper profile against one attacked by PGD-20 (the Fashion-MNIST study: MAEP against DiffPure) and measure the
 * attackers as much as the defences.
 */
public final class Comparisons {
    private Comparisons() {}

    /** One pair: the threat, the attacks both met, and the counts ({@code pair.attack()} is the threat's label). */
    public record Comparison(Threat threat, List<String> attacks, PairedRows.Pair pair) {
        public Comparison {
            attacks = List.copyOf(attacks);
        }
    }

    /** Every two groups of one threat (in the given order) that met a common attack and share an image. */
    static List<Comparison> of(List<Map.Entry<RunReader.Key, List<TriedCell>>> groups) {
        List<Comparison> out = new ArrayList<>();
        List<Threat> threats = groups.stream().map(e -> e.getKey().threat()).distinct()
                .sorted(Comparator.comparing(Threat::norm).thenComparingDouble(Threat::size)).toList();
        for (Threat t : threats) {
            List<Map.Entry<RunReader.Key, List<TriedCell>>> of = groups.stream()
                    .filter(e -> e.getKey().threat().equals(t)).toList();
            for (int i = 0; i < of.size(); i++) {
                for (int j = i + 1; j < of.size(); j++) {
                    compare(t, of.get(i), of.get(j)).ifPresent(out::add);
                }
            }
        }
        return out;
    }

    private static Optional<Comparison> compare(Threat t, Map.Entry<RunReader.Key, List<TriedCell>> a,
            Map.Entry<RunReader.Key, List<TriedCell>> b) {
        Set<String> common = new LinkedHashSet<>(a.getValue().stream().map(TriedCell::attack).toList());
        common.retainAll(b.getValue().stream().map(TriedCell::attack).toList());
        if (common.isEmpty()) {
            return Optional.empty();
        }
        List<TriedCell> ca = a.getValue().stream().filter(c -> common.contains(c.attack())).toList();
        List<TriedCell> cb = b.getValue().stream().filter(c -> common.contains(c.attack())).toList();
        List<TriedCell> all = new ArrayList<>(ca);
        all.addAll(cb);
        Set<Integer> shared = CrossRunWorst.shared(all);
        if (shared.isEmpty()) {
            return Optional.empty();
        }
        int[] counts = new int[4]; // both, only a, only b, neither
        for (int image : shared) {
            boolean ra = ca.stream().allMatch(c -> c.robust(image));
            boolean rb = cb.stream().allMatch(c -> c.robust(image));
            counts[ra ? (rb ? 0 : 1) : (rb ? 2 : 3)]++;
        }
        return Optional.of(new Comparison(t, List.copyOf(common), new PairedRows.Pair(t.label(),
                a.getKey().defence(), b.getKey().defence(), shared.size(), counts[0], counts[1], counts[2],
                counts[3])));
    }
}
