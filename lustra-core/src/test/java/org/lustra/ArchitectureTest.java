package org.lustra;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackages;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The package structure of lustra-core, checked on its compiled classes: cli → eval → defense (and attack) →
 * diffusion → model → nn / data → util, with no cycle between the top-level packages. Only production classes are
 * imported; a test may reach up. Every rule fails on an empty
 * selection (ArchUnit's {@code archRule.failOnEmptyShould} default), so a rule whose package was renamed fails instead
 * of passing on nothing.
 */
class ArchitectureTest {

    private static final JavaClasses CORE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.lustra");

    @Test
    void givenTheCoreClasses_whenImported_thenEveryTopLevelPackageIsThere() {
        for (String p : List.of("util", "data", "nn", "model", "diffusion", "defense", "attack", "eval")) {
            assertFalse(CORE.that(resideInAPackage("org.lustra." + p + "..")).isEmpty(),
                    "no production classes imported from org.lustra." + p);
        }
    }

    @Test
    void givenTheTopLevelPackages_whenTheirDependenciesAreGraphed_thenThereIsNoCycle() {
        slices().matching("org.lustra.(*)..").should().beFreeOfCycles().check(CORE);
    }

    @Test
    void givenUtil_whenItsDependenciesAreListed_thenNoneIsAnotherLustraPackage() {
        noClasses().that().resideInAPackage("org.lustra.util..")
                .should().dependOnClassesThat(lustraOutside("org.lustra.util.."))
                .check(CORE);
    }

    @Test
    void givenData_whenItsDependenciesAreListed_thenTheOnlyOtherLustraPackageIsUtil() {
        noClasses().that().resideInAPackage("org.lustra.data..")
                .should().dependOnClassesThat(lustraOutside("org.lustra.data..", "org.lustra.util.."))
                .check(CORE);
    }

    @Test
    void givenNn_whenItsDependenciesAreListed_thenTheOnlyOtherLustraPackageIsUtil() {
        noClasses().that().resideInAPackage("org.lustra.nn..")
                .should().dependOnClassesThat(lustraOutside("org.lustra.nn..", "org.lustra.util.."))
                .check(CORE);
    }

    @Test
    void givenModel_whenItsDependenciesAreListed_thenNoneIsDiffusionDefenseAttackOrEval() {
        noClasses().that().resideInAPackage("org.lustra.model..")
                .should().dependOnClassesThat().resideInAnyPackage("org.lustra.diffusion..", "org.lustra.defense..",
                        "org.lustra.attack..", "org.lustra.eval..")
                .check(CORE);
    }

    @Test
    void givenDiffusion_whenItsDependenciesAreListed_thenNoneIsDefenseAttackOrEval() {
        noClasses().that().resideInAPackage("org.lustra.diffusion..")
                .should().dependOnClassesThat().resideInAnyPackage("org.lustra.defense..", "org.lustra.attack..",
                        "org.lustra.eval..")
                .check(CORE);
    }

    @Test
    void givenDefense_whenItsDependenciesAreListed_thenNoneIsEval() {
        noClasses().that().resideInAPackage("org.lustra.defense..")
                .should().dependOnClassesThat().resideInAPackage("org.lustra.eval..")
                .check(CORE);
    }

    @Test
    void givenTheCoreLibrary_whenItsDependenciesAreListed_thenNoneIsTheCli() {
        noClasses().that().resideInAPackage("org.lustra..")
                .should().dependOnClassesThat().resideInAPackage("org.lustra.cli..")
                .check(CORE);
    }

    @Test
    void givenThePlottingLibrary_whenItsUsersAreListed_thenOnlyTheReportChartsUseIt() {
        noClasses().that().doNotHaveFullyQualifiedName("org.lustra.eval.Figures")
                .should().dependOnClassesThat().resideInAPackage("org.jfree..")
                .check(CORE);
    }

    @Test
    void givenTheCoreClasses_whenTheirCallsAreListed_thenNoneCallsDjlsSwish() {
        // Activation.swish(x, β) multiplies by a temporary scalar β that its backward pass reads after it was freed:
        // the NaN adversarial images of harness v1 came from it. SiLU is written as x·σ(x) (UNet, GroupNorm) instead.
        noClasses().that().resideInAPackage("org.lustra..")
                .should().callMethod(ai.djl.nn.Activation.class, "swish", ai.djl.ndarray.NDArray.class, float.class)
                .orShould().callMethod(ai.djl.nn.Activation.class, "swish", ai.djl.ndarray.NDList.class, float.class)
                .check(CORE);
    }

    /** Classes of org.lustra outside the given packages. */
    private static DescribedPredicate<JavaClass> lustraOutside(String... allowed) {
        return resideInAPackage("org.lustra..").and(resideOutsideOfPackages(allowed));
    }
}
