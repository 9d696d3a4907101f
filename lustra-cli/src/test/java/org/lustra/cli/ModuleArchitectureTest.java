package org.lustra.cli;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The layers above lustra-core, checked on the compiled classes of all three modules together (core's own
 * ArchitectureTest sees only core, where a dependency on cli could not even be compiled): cli → serve → app → core, and
 * spark → eval; no cycle between any two top-level packages of the whole program. Rules fail on an empty selection.
 */
class ModuleArchitectureTest {

    private static final JavaClasses ALL = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            // only Lustra's own class folders and jars: reading Spark's and DJL's hundreds of jars took 19 s
            .withImportOption(location -> location.contains("lustra"))
            .importPackages("org.lustra");

    private static final String[] CORE = {"org.lustra.util..", "org.lustra.data..", "org.lustra.nn..",
        "org.lustra.model..", "org.lustra.diffusion..", "org.lustra.defense..", "org.lustra.attack..",
        "org.lustra.eval.."};

    @Test
    void givenEveryModule_whenImported_thenCoreSparkAndTheCliPackagesAreAllThere() {
        for (String p : List.of("util", "eval", "spark", "app", "serve", "cli")) {
            assertFalse(ALL.that(resideInAPackage("org.lustra." + p + "..")).isEmpty(),
                    "no production classes imported from org.lustra." + p);
        }
    }

    @Test
    void givenTheWholeProgram_whenTopLevelPackagesAreGraphed_thenThereIsNoCycle() {
        slices().matching("org.lustra.(*)..").should().beFreeOfCycles().check(ALL);
    }

    @Test
    void givenCore_whenItsDependenciesAreListed_thenNoneIsAModuleAboveIt() {
        noClasses().that().resideInAnyPackage(CORE)
                .should().dependOnClassesThat().resideInAnyPackage("org.lustra.cli..", "org.lustra.serve..",
                        "org.lustra.app..", "org.lustra.spark..")
                .check(ALL);
    }

    @Test
    void givenApp_whenItsDependenciesAreListed_thenNoneIsCliServeOrSpark() {
        noClasses().that().resideInAPackage("org.lustra.app..")
                .should().dependOnClassesThat().resideInAnyPackage("org.lustra.cli..", "org.lustra.serve..",
                        "org.lustra.spark..")
                .check(ALL);
    }

    @Test
    void givenServeAndSpark_whenTheirDependenciesAreListed_thenNeitherReachesUpToTheCli() {
        noClasses().that().resideInAnyPackage("org.lustra.serve..", "org.lustra.spark..")
                .should().dependOnClassesThat().resideInAnyPackage("org.lustra.cli..")
                .check(ALL);
        noClasses().that().resideInAPackage("org.lustra.spark..")
                .should().dependOnClassesThat().resideInAnyPackage("org.lustra.serve..", "org.lustra.app..")
                .check(ALL);
    }
}
