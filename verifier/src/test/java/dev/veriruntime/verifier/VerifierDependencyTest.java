package dev.veriruntime.verifier;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import com.tngtech.archunit.library.dependencies.SlicesRuleDefinition;
import org.junit.jupiter.api.Test;

/**
 * The verifier's package graph: pure Java, no cycles, and {@code elf} a codec that knows nothing of
 * verdicts. Production classes only; the rules read this module's compiled classes, not the whole
 * classpath.
 */
class VerifierDependencyTest {
  private static final String VERIFIER = "dev.veriruntime.verifier";

  private static final JavaClasses PRODUCTION =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importUrl(BinaryVerifier.class.getProtectionDomain().getCodeSource().getLocation());

  /** Every package of the verifier is its own slice, the root package included. */
  private static final SliceAssignment BY_PACKAGE =
      new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
          String p = javaClass.getPackageName();
          return p.equals(VERIFIER) || p.startsWith(VERIFIER + ".")
              ? SliceIdentifier.of(p)
              : SliceIdentifier.ignore();
        }

        @Override
        public String getDescription() {
          return "packages of " + VERIFIER;
        }
      };

  @Test
  void noPackageCycles() {
    SlicesRuleDefinition.slices()
        .assignedFrom(BY_PACKAGE)
        .should()
        .beFreeOfCycles()
        .check(PRODUCTION);
  }

  @Test
  void elfIsACodecThatKnowsNoVerdicts() {
    // hash is a leaf (see hashDependsOnNothingElseInTheVerifier): the reader streams section
    // digests through it instead of keeping a second SHA-256 implementation.
    noClasses()
        .that()
        .resideInAPackage(VERIFIER + ".elf..")
        .should()
        .dependOnClassesThat(
            resideInAPackage(VERIFIER + "..")
                .and(not(resideInAnyPackage(VERIFIER + ".elf..", VERIFIER + ".hash.."))))
        .because("elf reads and describes ELF files; judging them belongs beside BinaryVerifier")
        .check(PRODUCTION);
  }

  @Test
  void hashDependsOnNothingElseInTheVerifier() {
    noClasses()
        .that()
        .resideInAPackage(VERIFIER + ".hash..")
        .should()
        .dependOnClassesThat(
            resideInAPackage(VERIFIER + "..").and(not(resideInAPackage(VERIFIER + ".hash.."))))
        .check(PRODUCTION);
  }

  @Test
  void pureJava() {
    forbiddenDependencies().check(PRODUCTION);
  }

  @Test
  void theRulesSeeTheVerifier() {
    // Guards against a vacuous pass: the importer must find every package, and a rule that forbids
    // a dependency the verifier does have (BinaryVerifier reads ELF files) must fail.
    assertThat(PRODUCTION.stream().map(JavaClass::getPackageName).distinct())
        .contains(
            VERIFIER,
            VERIFIER + ".elf",
            VERIFIER + ".hash",
            VERIFIER + ".pkg",
            VERIFIER + ".process",
            VERIFIER + ".reference");
    ArchRule elfIsUsed =
        noClasses()
            .that()
            .resideInAPackage(VERIFIER)
            .should()
            .dependOnClassesThat()
            .resideInAPackage(VERIFIER + ".elf..");
    assertThatThrownBy(() -> elfIsUsed.check(PRODUCTION)).isInstanceOf(AssertionError.class);
  }

  private static ArchRule forbiddenDependencies() {
    return noClasses()
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "reactor..",
            "io.netty..",
            "jnr..",
            "com.kenai.jffi..",
            "dev.veriruntime.ingest..",
            "dev.veriruntime.sinks..",
            "dev.veriruntime.pipeline..",
            "dev.veriruntime.agent..",
            "dev.veriruntime.api..",
            "dev.veriruntime.cli..")
        .because(
            "the verifier is plain Java over paths and bytes: no Reactor, no native code, and data"
                + " flows into it from the other modules, never back (verifier/README.md)");
  }
}
