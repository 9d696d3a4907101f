package org.lustra.eval;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.lustra.attack.Attack;
import org.lustra.attack.Attacks;
import org.lustra.attack.AttackModel;
import org.lustra.attack.AutoAttack;
import org.lustra.attack.Norm;
import org.lustra.data.ImageSet;
import org.lustra.util.LustraException;

/**
 * Every attack the harness knows, by name, with its defaults per profile — the one place that turns a config's attack
 * entry into an {@link Attack}. The quick profile is for iterating on code, the paper profile for committed tables:
 * iterations, Square queries, EOT copies against randomised defences and the K votes that confirm and score them.
 * {@code lustra eval run} (through {@link ExperimentRunner}), the report and {@code lustra attack} all come here.
 */
public final class AttackRegistry {
    private AttackRegistry() {}

    /** The experiment profile whose defaults apply. */
    public enum Profile {
        QUICK, PAPER;

        public static Profile of(Experiment exp) {
            return exp.paper() ? PAPER : QUICK;
        }

        int pick(int quick, int paper) {
            return this == PAPER ? paper : quick;
        }
    }

    /**
     * What some attacks need besides their settings: training images (RHDE's sources) and where AdvP's universal
     * patch comes from. Either may be null for attacks that are only described, never run.
     */
    public record Context(ImageSet train, Attacks.PatchSource patches) {}

    /** PGD iterations in the quick profile (also {@code lustra attack pgd}'s default). */
    public static final int QUICK_PGD_STEPS = 20;

    @FunctionalInterface
    private interface Factory {
        Attack create(Experiment.AttackSpec a, Profile p, Context c);
    }

    private record Entry(boolean patch, Factory factory) {}

    private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();

    static {
        lp("pgd", (a, p, c) -> pgd(norm(a), a.eps(), steps(a, p, QUICK_PGD_STEPS, 200), 0, true));
        lp("fgsm", (a, p, c) -> new Attacks.PgdAttack("fgsm", norm(a), a.eps(), 1, a.eps(), false));
        lp("apgd-ce", (a, p, c) -> new Attacks.ApgdAttack("apgd-ce", norm(a), a.eps(), steps(a, p, 50, 100),
                AttackModel.Loss.CE));
        lp("apgd-dlr", (a, p, c) -> new Attacks.ApgdAttack("apgd-dlr", norm(a), a.eps(), steps(a, p, 50, 100),
                AttackModel.Loss.DLR));
        lp("square", (a, p, c) -> new Attacks.SquareAttack(norm(a), a.eps(), queries(a, p)));
        lp("fab-t", (a, p, c) -> new Attacks.FabTAttack(norm(a), a.eps(), steps(a, p, 50, 100)));
        lp("autoattack", (a, p, c) -> new Attacks.AutoAttackRun(AutoAttack.Version.STANDARD, norm(a), a.eps(),
                steps(a, p, 50, 100), queries(a, p), 1));
        lp("autoattack-rand", (a, p, c) -> new Attacks.AutoAttackRun(AutoAttack.Version.RAND, norm(a), a.eps(),
                steps(a, p, 50, 100), queries(a, p), configuredEot(a, p)));
        patch("lavan", (a, p, c) -> new Attacks.LaVanAttack(a.fraction(), steps(a, p, 50, 100)));
        patch("advp", (a, p, c) -> new Attacks.AdvPatchAttack(a.fraction(), steps(a, p, 50, 100), a.target(),
                c.patches()));
        patch("gdpa", (a, p, c) -> new Attacks.GdpaAttack(a.fraction(), steps(a, p, 50, 100)));
        patch("evade-lavan", (a, p, c) -> new Attacks.EvadeLaVanAttack(a.fraction(), steps(a, p, 50, 300),
                c.train()));
        patch("rhde", (a, p, c) -> new Attacks.RhdeAttack(a.fraction(), steps(a, p, 25, 50), c.train()));
    }

    /** Every attack name, in a fixed order. */
    public static final Set<String> NAMES = Collections.unmodifiableSet(new LinkedHashSet<>(ENTRIES.keySet()));

    /** The patch attacks (a fraction of the image instead of an ℓp budget). */
    public static final Set<String> PATCH_NAMES = Collections.unmodifiableSet(new LinkedHashSet<>(ENTRIES.entrySet()
            .stream().filter(e -> e.getValue().patch()).map(Map.Entry::getKey).toList()));

    private static void lp(String name, Factory f) {
        ENTRIES.put(name, new Entry(false, f));
    }

    private static void patch(String name, Factory f) {
        ENTRIES.put(name, new Entry(true, f));
    }

    /** The attack of one config entry under {@code profile}. */
    public static Attack create(Experiment.AttackSpec a, Profile profile, Context context) {
        Entry e = ENTRIES.get(a.attack());
        if (e == null) {
            throw new LustraException("Unknown attack '" + a.attack() + "'; use one of " + new TreeSet<>(NAMES));
        }
        return e.factory().create(a, profile, context);
    }

    /** PGD with explicit settings ({@code stepSize} ≤ 0: 2.5 ε / steps), for {@code lustra attack pgd}. */
    public static Attacks.PgdAttack pgd(Norm norm, double eps, int steps, double stepSize, boolean randomStart) {
        return new Attacks.PgdAttack("pgd", norm, eps, steps, stepSize, randomStart);
    }

    /**
     * Whether the attack of {@code a} takes gradients inside each chunk's run (see {@link Attack#gradientsInRun}); a
     * report uses it to tell "no gradient rows because none are taken" from "no gradient rows recorded".
     */
    public static boolean gradientsInRun(Experiment.AttackSpec a) {
        // described only, never run: the profile and context do not change what kind of attack it is
        return create(a, Profile.QUICK, new Context(null, null)).gradientsInRun();
    }

    public static boolean isPatch(String name) {
        return PATCH_NAMES.contains(name);
    }

    /** EOT copies per gradient against a randomised defence: the config's, else 4 (quick) or 20 (paper). */
    public static int eot(Experiment.AttackSpec a, Profile p) {
        return configuredEot(a, p);
    }

    /** K, the fresh evaluations that confirm and score an attack on a randomised defence: 3 (quick) or 10 (paper). */
    public static int votes(Profile p) {
        return p.pick(3, 10);
    }

    private static int configuredEot(Experiment.AttackSpec a, Profile p) {
        return a.eot() != null ? a.eot() : p.pick(4, 20);
    }

    private static int steps(Experiment.AttackSpec a, Profile p, int quick, int paper) {
        return a.steps() != null ? a.steps() : p.pick(quick, paper);
    }

    private static int queries(Experiment.AttackSpec a, Profile p) {
        return a.queries() != null ? a.queries() : p.pick(1000, 5000);
    }

    private static Norm norm(Experiment.AttackSpec a) {
        return Norm.parse(a.norm());
    }
}
