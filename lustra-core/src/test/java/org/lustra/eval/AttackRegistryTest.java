package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.attack.Attack;
import org.lustra.attack.AttackModel;
import org.lustra.attack.Attacks;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Identity;

/** The registry's defaults per profile and the text its attacks give the manifest; no engine needed. */
class AttackRegistryTest {
    private static final AttackRegistry.Context DESCRIBE_ONLY = new AttackRegistry.Context(null, null);

    private static Experiment.AttackSpec spec(String name, Integer steps, Integer eot, Integer queries) {
        boolean patch = AttackRegistry.isPatch(name);
        return new Experiment.AttackSpec(name, patch ? null : "linf", patch ? 0 : 0.0313725, steps, eot, 0.05,
                queries, null);
    }

    @Test
    void givenEveryName_whenCreated_thenTheAttackCarriesThatName() {
        for (String name : AttackRegistry.NAMES) {
            Attack a = AttackRegistry.create(spec(name, null, null, null), AttackRegistry.Profile.QUICK,
                    DESCRIBE_ONLY);
            assertEquals(name, a.name());
            assertEquals(AttackRegistry.isPatch(name), a.budget().isPatch(), name);
        }
    }

    @Test
    void givenEveryName_whenAskedWhetherItsRunTakesGradients_thenOnlyTheBlackBoxesAndThePastedUniversalPatchDoNot() {
        List<String> without = AttackRegistry.NAMES.stream()
                .filter(name -> !AttackRegistry.gradientsInRun(spec(name, null, null, null))).toList();
        // AutoAttack contains Square but also APGD, so its runs do take gradients
        assertEquals(List.of("square", "advp", "rhde"), without);
    }

    @Test
    void givenPgdWithoutSteps_whenCreatedPerProfile_thenQuickRuns20AndPaper200() {
        Experiment.AttackSpec pgd = spec("pgd", null, null, null);
        assertEquals("linf eps=0.0314, 20 steps, random start", AttackRegistry.create(pgd,
                AttackRegistry.Profile.QUICK, DESCRIBE_ONLY).describe(28, 28));
        assertEquals("linf eps=0.0314, 200 steps, random start", AttackRegistry.create(pgd,
                AttackRegistry.Profile.PAPER, DESCRIBE_ONLY).describe(28, 28));
    }

    @Test
    void givenAConfiguredStepCount_whenCreated_thenItOverridesTheProfile() {
        Attack lavan = AttackRegistry.create(spec("lavan", 7, null, null), AttackRegistry.Profile.PAPER,
                DESCRIBE_ONLY);
        assertEquals("patch 5.0% of the image (6 px side), 7 iterations", lavan.describe(28, 28));
    }

    @Test
    void givenTheProfiles_whenAskedForEotAndVotes_thenQuickIs4And3AndPaperIs20And10() {
        Experiment.AttackSpec pgd = spec("pgd", null, null, null);
        assertEquals(4, AttackRegistry.eot(pgd, AttackRegistry.Profile.QUICK));
        assertEquals(20, AttackRegistry.eot(pgd, AttackRegistry.Profile.PAPER));
        assertEquals(2, AttackRegistry.eot(spec("pgd", null, 2, null), AttackRegistry.Profile.PAPER));
        assertEquals(3, AttackRegistry.votes(AttackRegistry.Profile.QUICK));
        assertEquals(10, AttackRegistry.votes(AttackRegistry.Profile.PAPER));
    }

    @Test
    void givenAutoAttackRand_whenTheRouteHasMoreEotCopies_thenItTakesTheRoutes() {
        Attacks.AutoAttackRun rand = (Attacks.AutoAttackRun) AttackRegistry.create(spec("autoattack-rand", null,
                null, null), AttackRegistry.Profile.QUICK, DESCRIBE_ONLY);
        AttackModel routeWithEot6 = new AttackModel(x -> x, null, new Shape(1, 28, 28), 6);
        assertEquals(6, rand.options(routeWithEot6, 1).eotCopies());
        assertEquals(4, rand.options(new AttackModel(x -> x, null, new Shape(1, 28, 28), 1), 1).eotCopies());
    }

    @Test
    void givenStandardAutoAttack_whenTheRouteHasEotCopies_thenItsGradientAttacksUseThem() {
        // harness v1/v2.0 ran the standard version with one copy while the route's label said "EOT N"
        Attacks.AutoAttackRun standard = (Attacks.AutoAttackRun) AttackRegistry.create(spec("autoattack", null,
                null, null), AttackRegistry.Profile.QUICK, DESCRIBE_ONLY);
        assertEquals(6, standard.options(new AttackModel(x -> x, null, new Shape(1, 28, 28), 6), 1).eotCopies());
        assertEquals(1, standard.options(new AttackModel(x -> x, null, new Shape(1, 28, 28), 1), 1).eotCopies());
        assertTrue(standard.randomizedNote().contains("FAB-T and Square"), standard.randomizedNote());
    }

    @Test
    void givenTheBlackBoxAttacks_whenCreated_thenOnlySquareAndRhdeNeedNoGradient() {
        List<String> blackBox = AttackRegistry.NAMES.stream().filter(n -> AttackRegistry.create(spec(n, null, null,
                null), AttackRegistry.Profile.QUICK, DESCRIBE_ONLY).blackBox()).toList();
        assertEquals(List.of("square", "rhde"), blackBox);
    }

    @Test
    void givenNoDefence_whenRouted_thenTheBareClassifierIsAttackedWithExactGradientsAndOneVote() {
        Route r = Route.of(Identity.INSTANCE, true, GradientMode.BPDA, 20, 10);
        assertFalse(r.adaptive());
        assertEquals(GradientMode.EXACT, r.mode());
        assertEquals(1, r.eot());
        assertEquals(1, r.votes());
        assertEquals("EXACT", r.label(Identity.INSTANCE, false));
    }

    @Test
    void givenAChunkKeyOfAWorstOfRouteCell_whenWrittenAndParsed_thenItRoundTrips() {
        RunDirectory.ChunkKey k = new RunDirectory.ChunkKey(3, "diffpure:0.1:ddim10|pgd-linf-0.0314|adaptive@EXACT",
                12);
        assertEquals(k, RunDirectory.ChunkKey.parse(k.text()));
        assertTrue(k.text().startsWith("3#") && k.text().endsWith("#12"), k.text());
    }
}
