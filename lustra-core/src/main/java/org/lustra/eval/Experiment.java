package org.lustra.eval;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.lustra.data.SubsetSpec;
import org.lustra.defense.DefenseSpec;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.util.Json;
import org.lustra.util.LustraException;

/**
 * An experiment config, read from JSON. Example:
 * <pre>
 * {"name": "undefended", "classifier": "classifier-resnet", "images": 512, "profile": "paper", "seeds": [1, 2, 3],
 *  "defenses": ["none", "jpeg:75"], "modes": ["nonadaptive", "adaptive"],
 *  "attacks": [{"attack": "pgd", "norm": "linf", "eps": [0.0313725, 0.1]}, {"attack": "lavan"}]}
 * </pre>
 * Budgets given as a list expand into one cell each; {@code steps} etc. override the profile's defaults.
 * {@code gradient} sets how adaptive attacks pass the defence: auto (EXACT where the purifier is differentiable —
 * by recomputation for DiffPure — else STE where the purifier has thresholds, as DIFFender, else BPDA), exact,
 * surrogate, bpda, ste, masked (DIFFender's corrected surrogate), or worst-of (each adaptive cell runs its attack
 * once per route the defence offers and keeps, per image, the worst outcome). {@code subset} is a {@link SubsetSpec}:
 * a shipped subset ({@code eval512}, {@code eval512-tone}, {@code digits-holdout}) optionally corrupted on load
 * ({@code eval512+brightness:3}); with {@code digits-holdout} give a digits classifier ({@code classifier-digits}) —
 * purifiers trained on Fashion-MNIST then run across datasets. {@code diffusion} names the diffusion model the
 * diffusion defences run on (a name under models/); absent means v1, {@code diffusion-unified} ({@link DiffusionModel#UNNAMED_IN_CONFIGS}), and stays
 * absent in the manifest, so configs written before the field existed keep their meaning and their text.
 * {@code paired: true} gives every defence row of an attack the same random draws (patch placements, initial
 * patches, restarts, judging votes; {@link RunSeeds}; an adaptive AdvP cell still trains its own universal patch
 * through its defence, from its own seed), so two rows differ only by their defence and the report adds
 * a paired comparison per attack ({@link PairedRows}); absent means each cell draws its own, as every run before
 * 3 December did. {@code fullLength: true} runs the attacks of non-adaptive and undefended cells to full length with
 * the best objective kept, as they always run against a randomised defence; absent, against a deterministic defence
 * (and undefended) an attack that stops at a first success stops each image once the classifier is fooled, which
 * makes weaker transfer images than the randomised rows get (3 December, {@code docs/results/diffender-paired-lavan12}).
 * {@code skipFooled: true} (worst-of only) saves the attacks that cannot change a worst-of cell: a route after the
 * first attacks only the images no earlier route fooled on every one of the K judging votes (such an image's worst
 * is final and ties keep the earlier route, so its pick is what it would have been; the images still attacked form a
 * smaller chunk and take the draws of their new rows, so their outcomes match a full run only in distribution). The
 * route cell's record of a skipped image carries the earlier worst, naming its route: a later route cell is that
 * route alone with the skipped images counted as fooled. With {@code paired: true}, rows no longer share the later
 * routes' draws (each row skips its own images).
 */
public record Experiment(String name, String classifier, String subset, Integer images, String profile,
        List<Long> seeds, List<String> defenses, List<String> modes, List<AttackConfig> attacks, Integer batch,
        String gradient, String diffusion, Boolean paired, Boolean fullLength, Boolean skipFooled) {

    /** The attack names a config may use ({@link AttackRegistry} owns them). */
    public static final Set<String> ATTACKS = AttackRegistry.NAMES;
    public static final Set<String> PATCH_ATTACKS = AttackRegistry.PATCH_NAMES;

    /**
     * One attack entry of the config; {@code eps} may list several budgets (ℓp attacks only). {@code target} (AdvP
     * only): a class index for a targeted universal patch, -1 for untargeted; absent = the best of the per-class
     * targeted patches on held-out training images. {@code restarts} (adaptive cells): run the whole attack this many
     * times through every route, each restart from its own attack seed (and, for AdvP, its own patch), and keep per
     * image the worst, judged afresh; absent or 1 = once.
     */
    public record AttackConfig(String attack, String norm, List<Double> eps, Integer steps, Integer eot,
            Double fraction, Integer queries, Integer target, Integer restarts) {
        /**
         * A builder for attack entries made in code (entries on disk are read with their config). Every setting starts
         * absent ({@code null}), exactly as if the JSON field were missing; the config's constructor validates them.
         */
        public static Builder builder(String attack) {
            return new Builder(attack);
        }

        /**
         * DJL-style builder: the attack name is given to {@link AttackConfig#builder}, every other setting is an
         * {@code opt…} call, and {@code null} leaves a setting absent (steps, EOT and queries then come from the
         * profile).
         */
        public static final class Builder {
            private final String attack;
            private String norm;
            private List<Double> eps;
            private Integer steps;
            private Integer eot;
            private Double fraction;
            private Integer queries;
            private Integer target;
            private Integer restarts;

            private Builder(String attack) {
                this.attack = attack;
            }

            /** linf or l2 (ℓp attacks only). */
            public Builder optNorm(String value) {
                norm = value;
                return this;
            }

            /** The budgets, one cell each (ℓp attacks only). */
            public Builder optEps(List<Double> values) {
                eps = values;
                return this;
            }

            public Builder optEps(double... values) {
                return optEps(Arrays.stream(values).boxed().toList());
            }

            public Builder optSteps(Integer value) {
                steps = value;
                return this;
            }

            public Builder optEot(Integer value) {
                eot = value;
                return this;
            }

            /** Absent: patches cover 5 % of the image (patch attacks only). */
            public Builder optFraction(Double value) {
                fraction = value;
                return this;
            }

            public Builder optQueries(Integer value) {
                queries = value;
                return this;
            }

            /** AdvP only: a class index, or -1 for untargeted; absent = the best of the per-class targeted patches. */
            public Builder optTarget(Integer value) {
                target = value;
                return this;
            }

            /** Absent or 1: adaptive cells run the attack once. */
            public Builder optRestarts(Integer value) {
                restarts = value;
                return this;
            }

            public AttackConfig build() {
                return new AttackConfig(attack, norm, eps, steps, eot, fraction, queries, target, restarts);
            }
        }
    }

    /** One expanded attack: a single budget. */
    public record AttackSpec(String attack, String norm, double eps, Integer steps, Integer eot, double fraction,
            Integer queries, Integer target, Integer restarts) {
        public AttackSpec(String attack, String norm, double eps, Integer steps, Integer eot, double fraction,
                Integer queries, Integer target) {
            this(attack, norm, eps, steps, eot, fraction, queries, target, null);
        }

        /** How many times adaptive cells run this attack (1 unless the config asks for restarts). */
        public int restartCount() {
            return restarts == null ? 1 : restarts;
        }

        public boolean patch() {
            return AttackRegistry.isPatch(attack);
        }

        /** Stable identifier, e.g. {@code pgd-linf-0.0314} or {@code lavan-0.05}. */
        public String id() {
            String base = patch() ? attack + String.format(Locale.ROOT, "-%.3f", fraction)
                    : attack + "-" + norm + String.format(Locale.ROOT, "-%.4f", eps);
            return base + overrides();
        }

        /**
         * The attack and its overridden settings without the budget, e.g. {@code apgd-ce-s5}: the cells of one family
         * differ only in their budget (one curve per family in the report's figures).
         */
        public String family() {
            return attack + overrides();
        }

        private String overrides() {
            return (steps != null ? "-s" + steps : "") + (eot != null ? "-eot" + eot : "")
                    + (queries != null ? "-q" + queries : "")
                    + (target == null ? "" : target < 0 ? "-untargeted" : "-t" + target)
                    + (restartCount() > 1 ? "-r" + restarts : "");
        }
    }

    /** Fills defaults and validates; every problem is named with the fix. */
    public Experiment {
        if (name == null || !name.matches("[A-Za-z0-9._-]+")) {
            throw new LustraException("Experiment needs a \"name\" of letters, digits, '.', '_' or '-', got " + name);
        }
        classifier = classifier == null ? "classifier-resnet" : classifier;
        subset = subset == null ? "eval512" : subset;
        SubsetSpec.parse(subset); // fails with the accepted forms
        profile = profile == null ? "quick" : profile;
        if (!profile.equals("quick") && !profile.equals("paper")) {
            throw new LustraException("Experiment \"profile\" must be quick or paper, got " + profile);
        }
        seeds = seeds == null || seeds.isEmpty() ? List.of(1L) : List.copyOf(seeds);
        defenses = defenses == null || defenses.isEmpty() ? List.of("none") : List.copyOf(defenses);
        modes = modes == null || modes.isEmpty() ? List.of("nonadaptive") : List.copyOf(modes);
        for (String m : modes) {
            if (!m.equals("nonadaptive") && !m.equals("adaptive")) {
                throw new LustraException("Unknown mode '" + m + "'; use nonadaptive or adaptive");
            }
        }
        for (String d : defenses) {
            DefenseSpec.parse(d); // fails with the accepted forms
        }
        if (attacks == null || attacks.isEmpty()) {
            throw new LustraException("Experiment " + name + " lists no \"attacks\"; add e.g. "
                    + "{\"attack\": \"pgd\", \"norm\": \"linf\", \"eps\": [0.0313725]}");
        }
        for (AttackConfig a : attacks) {
            if (a.attack() == null || !ATTACKS.contains(a.attack())) {
                throw new LustraException("Unknown attack '" + a.attack() + "'; use one of " + new TreeSet<>(
                        ATTACKS));
            }
            if (a.target() != null && (!a.attack().equals("advp") || a.target() < -1)) {
                throw new LustraException("\"target\" is an AdvP setting (a class index, or -1 for untargeted); "
                        + "remove it from " + a.attack() + " or fix the value " + a.target());
            }
            if (a.restarts() != null && a.restarts() < 1) {
                throw new LustraException("\"restarts\" of " + a.attack() + " must be ≥ 1 (the number of times "
                        + "adaptive cells run the attack), got " + a.restarts());
            }
            if (!PATCH_ATTACKS.contains(a.attack()) && (a.eps() == null || a.eps().isEmpty() || a.norm() == null)) {
                throw new LustraException("Attack " + a.attack() + " needs \"norm\" (linf or l2) and \"eps\" (a list)");
            }
        }
        if (images != null && images < 1) {
            throw new LustraException("Experiment \"images\" must be ≥ 1, got " + images);
        }
        batch = batch == null ? 64 : batch;
        if (batch < 1) {
            throw new LustraException("Experiment \"batch\" must be ≥ 1, got " + batch);
        }
        attacks = List.copyOf(attacks);
        gradient = gradient == null ? "auto" : gradient;
        // false is the default: kept absent, so a config that spells it out still matches a manifest without the field
        paired = Boolean.TRUE.equals(paired) ? paired : null;
        fullLength = Boolean.TRUE.equals(fullLength) ? fullLength : null;
        skipFooled = Boolean.TRUE.equals(skipFooled) ? skipFooled : null;
        if (diffusion != null && !diffusion.matches("[A-Za-z0-9._-]+")) {
            throw new LustraException("Experiment \"diffusion\" must name a model under models/ (letters, digits, "
                    + "'.', '_' or '-'), got " + diffusion);
        }
        if (!List.of("auto", "exact", "surrogate", "bpda", "ste", "masked", "worst-of").contains(gradient)) {
            throw new LustraException("Experiment \"gradient\" (how adaptive attacks pass the defence) must be auto, "
                    + "exact, surrogate, bpda, ste, masked or worst-of (every route the defence offers, the worst "
                    + "outcome per image), got " + gradient);
        }
        if (skipFooled != null && !gradient.equals("worst-of")) {
            throw new LustraException("Experiment \"skipFooled\" skips routes of worst-of cells, but \"gradient\" is "
                    + gradient + "; set \"gradient\" to worst-of or remove \"skipFooled\".");
        }
    }

    /**
     * A builder for configs made in code (configs on disk are read by {@link #read}). Every setting starts absent
     * ({@code null}), exactly as if the JSON field were missing, and {@link ExperimentBuilder#build} runs the validation above.
     * {@code classifier} may be {@code null} for the default.
     */
    public static ExperimentBuilder builder(String name, String classifier) {
        return new ExperimentBuilder(name, classifier);
    }

    /** Whether every defence row of an attack shares its random draws ({@code "paired": true}). */
    public boolean pairedRows() {
        return Boolean.TRUE.equals(paired);
    }

    /** Whether non-adaptive and undefended cells run their attacks to full length ({@code "fullLength": true}). */
    public boolean fullLengthNonAdaptive() {
        return Boolean.TRUE.equals(fullLength);
    }

    /**
     * Whether a worst-of cell's later routes attack only the images earlier routes have not fooled on every vote
     * ({@code "skipFooled": true}).
     */
    public boolean skipsFooledImages() {
        return Boolean.TRUE.equals(skipFooled);
    }

    /** The diffusion model the config's diffusion defences run on. */
    public String diffusionModel() {
        return diffusion == null ? DiffusionModel.UNNAMED_IN_CONFIGS : diffusion;
    }

    /**
     * Reads a config, refusing keys the config does not have: Gson would skip them, so a misspelt setting
     * ({@code "skipfooled"}) would run a different experiment than the one written, without a word.
     */
    public static Experiment read(Path file) {
        JsonObject tree = Json.readObject(file);
        Json.requireKnownKeys(tree, Experiment.class, file.toString());
        JsonElement attackList = tree.get("attacks");
        if (attackList != null && attackList.isJsonArray()) {
            for (JsonElement a : attackList.getAsJsonArray()) {
                if (a.isJsonObject()) {
                    Json.requireKnownKeys(a.getAsJsonObject(), AttackConfig.class, file + ", an entry of \"attacks\",");
                }
            }
        }
        return Json.fromTree(tree, Experiment.class, file);
    }

    public boolean paper() {
        return profile.equals("paper");
    }

    /** The attacks with one budget each, in config order. */
    public List<AttackSpec> expandedAttacks() {
        List<AttackSpec> out = new ArrayList<>();
        for (AttackConfig a : attacks) {
            double fraction = a.fraction() == null ? 0.05 : a.fraction();
            if (PATCH_ATTACKS.contains(a.attack())) {
                out.add(new AttackSpec(a.attack(), null, 0, a.steps(), a.eot(), fraction, a.queries(),
                        a.target(), a.restarts()));
            } else {
                for (double e : a.eps()) {
                    out.add(new AttackSpec(a.attack(), a.norm(), e, a.steps(), a.eot(), fraction, a.queries(),
                        a.target(), a.restarts()));
                }
            }
        }
        return out;
    }

    /** A cell: defence × attack × mode. Undefended cells exist once (the mode is moot). */
    public record Cell(String defense, AttackSpec attack, String mode) {
        public String id() {
            return defense + "|" + attack.id() + "|" + mode;
        }

        /** The classifier alone (spec {@code none}; its one cell has mode "none"). */
        public boolean undefended() {
            return defense.equals("none");
        }

        /** The attacker sees the defence. */
        public boolean adaptive() {
            return mode.equals("adaptive");
        }
    }

    public List<Cell> cells() {
        List<Cell> out = new ArrayList<>();
        for (String d : defenses) {
            for (AttackSpec a : expandedAttacks()) {
                if (d.equals("none")) {
                    out.add(new Cell(d, a, "none"));
                    continue;
                }
                for (String m : modes) {
                    out.add(new Cell(d, a, m));
                }
            }
        }
        return out;
    }
}
