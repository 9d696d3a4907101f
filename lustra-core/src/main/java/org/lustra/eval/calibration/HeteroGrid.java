package org.lustra.eval.calibration;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import org.lustra.defense.hetero.Ensemble;
import org.lustra.defense.hetero.HeteroOptions;

/**
 * The candidates of a heterogeneous-noise sweep: the Cartesian product of option lists, each candidate an explicit
 * {@code hetero:…} spec plus the ensemble around it. Unlisted settings keep {@link HeteroOptions}' defaults, so a
 * one-dimensional list (only τ, say) is the seed's Fig. 7 sweep of that setting around the defaults, and a stage list
 * of "all" plus each stage left out is its Table 7 ablation.
 *
 * @param noise (t_l, t_s) pairs written {@code tl/ts}, fractions of T, e.g. {@code 0.2/0.05}
 * @param thresholds mask thresholds as spec options: {@code tauX} (a value after normalisation) or {@code topX} (a
 *     share of pixels; the same mask under either normalisation, as both are monotone per stage)
 * @param normalizations {@code minmax} and/or {@code softmax}; only changes what a {@code tauX} means
 * @param resampling {@code singleU}, {@code multiU} or {@code nors}
 * @param stages {@code all} or {@code stagesA,B,…} (0-based)
 * @param base further spec options applied to every candidate, colon-separated (e.g. {@code stride2:eta0}); may be
 *     empty
 * @param members ensemble sizes S
 * @param aggregations how an ensemble of S &gt; 1 predicts
 */
public record HeteroGrid(List<String> noise, List<String> thresholds, List<String> normalizations,
        List<String> resampling, List<String> stages, String base, List<Integer> members,
        List<Ensemble.Aggregation> aggregations) {

    public HeteroGrid {
        for (List<?> l : List.of(noise, thresholds, normalizations, resampling, stages, members, aggregations)) {
            if (l == null || l.isEmpty()) {
                throw new IllegalArgumentException("Every list of a hetero grid needs at least one value (noise, "
                        + "thresholds, normalizations, resampling, stages, members, aggregations)");
            }
        }
        noise = List.copyOf(noise);
        thresholds = List.copyOf(thresholds);
        normalizations = List.copyOf(normalizations);
        resampling = List.copyOf(resampling);
        stages = List.copyOf(stages);
        members = List.copyOf(members);
        aggregations = List.copyOf(aggregations);
        base = base == null ? "" : base.strip();
        if (base.startsWith(":") || base.endsWith(":")) {
            throw new IllegalArgumentException("Invalid base options '" + base + "' (colon-separated, e.g. stride2:eta0)");
        }
        for (String n : noise) {
            if (!n.matches("[0-9.]+/[0-9.]+")) {
                throw new IllegalArgumentException("Invalid noise pair '" + n + "' (t_l/t_s as fractions of T, e.g. "
                        + "0.2/0.05)");
            }
        }
        for (int s : members) {
            if (s < 1 || s > 64) {
                throw new IllegalArgumentException("Invalid ensemble size " + s + " (1..64)");
            }
        }
    }

    /**
     * One candidate.
     *
     * @param spec the explicit hetero spec
     * @param members S
     * @param aggregation how S &gt; 1 members predict (irrelevant for S = 1)
     */
    public record Candidate(String spec, int members, Ensemble.Aggregation aggregation) {
        public Candidate {
            HeteroOptions.parse(spec); // a bad option fails here, naming it, before anything runs
            if (members < 1 || aggregation == null) {
                throw new IllegalArgumentException("Invalid ensemble " + members + " " + aggregation);
            }
        }

        /** The id in tables and the journal, e.g. {@code hetero:tl0.2:ts0.05:tau0.9} or {@code … ×5 vote}. */
        public String id() {
            return members == 1 ? spec : spec + " ×" + members + " " + aggregation.name().toLowerCase(Locale.ROOT);
        }
    }

    /** Every combination, in list order (noise outermost); duplicates (S = 1 with several aggregations) once. */
    public List<Candidate> candidates() {
        LinkedHashSet<Candidate> out = new LinkedHashSet<>();
        for (String n : noise) {
            String[] tlts = n.split("/");
            for (String norm : normalizations) {
                for (String thr : thresholds) {
                    for (String rs : resampling) {
                        for (String st : stages) {
                            StringBuilder spec = new StringBuilder("hetero:tl").append(tlts[0]).append(":ts")
                                    .append(tlts[1]).append(':').append(norm).append(':').append(thr).append(':')
                                    .append(rs);
                            if (!st.equals("all")) {
                                spec.append(':').append(st);
                            }
                            if (!base.isEmpty()) {
                                spec.append(':').append(base);
                            }
                            for (int s : members) {
                                for (Ensemble.Aggregation a : aggregations) {
                                    out.add(new Candidate(spec.toString(), s, s == 1 ? Ensemble.Aggregation.VOTE : a));
                                }
                            }
                        }
                    }
                }
            }
        }
        return List.copyOf(out);
    }

    /** "all" and every stage left out in turn, for a classifier with {@code stageCount} stages (seed Table 7). */
    public static List<String> leaveOneOut(int stageCount) {
        List<String> out = new ArrayList<>(List.of("all"));
        for (int leave = 0; leave < stageCount; leave++) {
            List<String> kept = new ArrayList<>();
            for (int s = 0; s < stageCount; s++) {
                if (s != leave) {
                    kept.add(Integer.toString(s));
                }
            }
            out.add("stages" + String.join(",", kept));
        }
        return out;
    }
}
