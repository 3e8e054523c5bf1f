package dev.veriruntime.ingest;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

/** One door to native code: only dev.veriruntime.ingest.kernel may touch jnr-ffi. */
class NativeBoundaryTest {
  private static final JavaClasses PRODUCTION =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          // Only this module's compiled classes: scanning the whole classpath takes many seconds.
          .importUrl(Probe.class.getProtectionDomain().getCodeSource().getLocation());

  @Test
  void onlyTheKernelPackageUsesJnr() {
    ArchRule rule =
        noClasses()
            .that()
            .resideOutsideOfPackage("dev.veriruntime.ingest.kernel..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("jnr..", "com.kenai.jffi..")
            .because(
                "all native calls and raw pointers stay behind the kernel package (STYLE: one door to the kernel)");
    rule.check(PRODUCTION);
  }

  @Test
  void theRuleSeesTheKernelPackage() {
    // Guards against a vacuous pass: the importer must actually find classes that do use jnr.
    ArchRule rule =
        noClasses()
            .that()
            .resideInAPackage("dev.veriruntime.ingest.kernel..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("jnr..");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> rule.check(PRODUCTION))
        .isInstanceOf(AssertionError.class);
  }
}
