package org.lustra.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The paired comparison of a run whose rows share their random draws ({@code "paired": true}): for every attack and
 * every two defence rows, how many images each keeps that the other loses, with McNemar's exact test. Unpaired rows
 * differ by their draws as well as their defence, and only their intervals can be compared; paired rows differ only
 * by the defence, so the discordant images carry the whole difference and a much smaller one is visible.
 */
public final class PairedRows {
    private PairedRows() {}

    /**
     * One pair of rows under one attack: images present in both (by run seed and index), robust (majority of K) in
     * both, only in {@code a}, only in {@code b}, in neither.
     */
    public record Pair(String attack, String a, String b, int images, int both, int onlyA, int onlyB, int neither) {
        public Pair {
            if (both + onlyA + onlyB + neither != images) {
                throw new IllegalArgumentException("the four counts must add up to the images: " + images);
            }
        }

        /** Robust accuracy of {@code b} minus that of {@code a}, in points. */
        public double differencePoints() {
            return images == 0 ? Double.NaN : 100.0 * (onlyB - onlyA) / images;
        }

        /** McNemar's exact two-sided p: the discordant images as fair coin flips under "the rows are equal". */
        public double mcNemarP() {
            return exactTwoSided(onlyA, onlyA + onlyB);
        }
    }

    /** P(|X − n/2| ≥ |k − n/2|) for X ~ Binomial(n, ½), capped at 1; 1 when there is nothing discordant. */
    static double exactTwoSided(int k, int n) {
        if (n == 0) {
            return 1;
        }
        int low = Math.min(k, n - k);
        double tail = 0;
        for (int i = 0; i <= low; i++) {
            tail += Math.exp(logChoose(n, i) - n * Math.log(2));
        }
        return Math.min(1, 2 * tail);
    }

    private static double logChoose(int n, int k) {
        double s = 0;
        for (int i = 1; i <= k; i++) {
            s += Math.log(n - k + i) - Math.log(i);
        }
        return s;
    }

    /**
     * Every pair of rows per attack and attacker (adaptive, or not: the undefended row joins the non-adaptive rows),
     * in manifest order; worst-of cells by their per-image worst outcome, their route cells left out.
     */
    public static List<Pair> of(Manifest manifest, List<SampleRecord> records) {
        Map<String, List<String>> rowsByAttack = new LinkedHashMap<>();
        for (Map.Entry<String, CellInfo> e : manifest.cells().entrySet()) {
            CellInfo info = e.getValue();
            if (info.mode().contains("@")) {
                continue; // a route of a worst-of cell
            }
            String attacker = info.mode().equals("adaptive") ? "adaptive" : "non-adaptive";
            rowsByAttack.computeIfAbsent(info.attack() + " " + attacker, k -> new ArrayList<>()).add(e.getKey());
        }
        Map<String, Map<Image, Boolean>> robust = new HashMap<>(); // cell -> image -> robust
        for (SampleRecord r : records) {
            robust.computeIfAbsent(r.cell(), k -> new HashMap<>()).put(new Image(r.seed(), r.index()), r.robust());
        }
        List<Pair> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : rowsByAttack.entrySet()) {
            List<String> rows = e.getValue();
            for (int i = 0; i < rows.size(); i++) {
                for (int j = i + 1; j < rows.size(); j++) {
                    out.add(pair(e.getKey(), manifest.cells().get(rows.get(i)).defense(),
                            manifest.cells().get(rows.get(j)).defense(),
                            robust.getOrDefault(rows.get(i), Map.of()), robust.getOrDefault(rows.get(j), Map.of())));
                }
            }
        }
        return out;
    }

    /** One image of the run: run seed and index. */
    private record Image(long seed, int index) {}

    private static Pair pair(String attack, String a, String b, Map<Image, Boolean> ra, Map<Image, Boolean> rb) {
        int n = 0;
        int[] counts = new int[4]; // both, only a, only b, neither
        for (Map.Entry<Image, Boolean> e : ra.entrySet()) {
            Boolean other = rb.get(e.getKey());
            if (other != null) {
                n++;
                counts[e.getValue() ? (other ? 0 : 1) : (other ? 2 : 3)]++;
            }
        }
        return new Pair(attack, a, b, n, counts[0], counts[1], counts[2], counts[3]);
    }

    /**
     * The report's section; empty when there is no pair with images in both rows. {@code fullLength}: the run's
     * non-adaptive cells all ran full length ({@code "fullLength": true}), so they judged the very same images.
     */
    public static String markdown(List<Pair> pairs, boolean fullLength) {
        List<Pair> shown = pairs.stream().filter(p -> p.images() > 0).toList();
        if (shown.isEmpty()) {
            return "";
        }
        StringBuilder md = new StringBuilder("## Paired rows\n\nThe rows of each attack drew the same random "
                + "starts, patch places, restarts and judging votes (`\"paired\": true`), so two rows differ only by "
                + "their defence" + (fullLength ? " (`\"fullLength\": true`: every non-adaptive row judged the same "
                + "attacked images). Per " : ", and, in non-adaptive cells, by the attack's length: against a "
                + "randomised defence it runs every iteration, against a deterministic one (and undefended) an attack "
                + "that stops at a first success (PGD, APGD and AutoAttack, Square, LaVAN, GDPA-like, RHDE-like) stops "
                + "each image once the classifier is fooled (`\"fullLength\": true` removes that). Per ")
                + "pair: the images (run seed × index) robust, by the majority of K, under both rows, only under A, "
                + "only under B and under neither; B − A in points; McNemar's exact two-sided p on the discordant "
                + "images (small p: the rows differ beyond chance on these images).\n\n"
                + "| attack | row A | row B | images | both | only A | only B | neither | B − A | p |\n"
                + "|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Pair p : shown) {
            md.append(String.format(Locale.ROOT, "| %s | `%s` | `%s` | %d | %d | %d | %d | %d | %+.1f | %s |%n",
                    p.attack(), p.a(), p.b(), p.images(), p.both(), p.onlyA(), p.onlyB(), p.neither(),
                    p.differencePoints(), p.mcNemarP() < 0.001 ? "< 0.001" : String.format(Locale.ROOT, "%.3f",
                            p.mcNemarP())));
        }
        return md.append('\n').toString();
    }
}
