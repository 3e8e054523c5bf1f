package dev.veriruntime.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaAccess;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import dev.veriruntime.verifier.FileIdentity;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module direction, checked on the product's classes (tests excluded): cli → agent → {pipeline,
 * api, ui} → {verifier, ingest, sinks} (ingest takes only {@code FileIdentity} from the verifier;
 * ui only the Core API and the sink SPI), no package cycles anywhere, and native code behind one
 * door. This module's test classpath holds every module, so one test sees them all.
 */
class ArchitectureTest {
  private static final String ROOT = "dev.veriruntime";
  private static JavaClasses product;

  @BeforeAll
  static void importProduct() {
    product =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            // Other modules arrive as jars; their test-jars hold test code, not product.
            .withImportOption(location -> !location.contains("-tests.jar"))
            .importPackages(ROOT);
  }

  private static ArchRule module(String name, String... mustNotUse) {
    String[] packages = new String[mustNotUse.length];
    for (int i = 0; i < mustNotUse.length; i++) {
      packages[i] =
          mustNotUse[i].contains(".") ? mustNotUse[i] + ".." : ROOT + "." + mustNotUse[i] + "..";
    }
    return noClasses()
        .that()
        .resideInAPackage(ROOT + "." + name + "..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(packages)
        .because(name + " must never depend on " + String.join(", ", mustNotUse));
  }

  @Test
  void verifierIsPure() {
    module(
            "verifier",
            "ingest",
            "sinks",
            "pipeline",
            "agent",
            "api",
            "cli",
            "reactor",
            "jnr",
            "io.netty")
        .check(product);
  }

  @Test
  void ingestAndSinksStandAlone() {
    module("ingest", "sinks", "pipeline", "agent", "api", "cli").check(product);
    module("sinks", "verifier", "ingest", "pipeline", "agent", "api", "cli").check(product);
  }

  @Test
  void ingestTakesOnlyTheKernelIdentityFromTheVerifier() {
    noClasses()
        .that()
        .resideInAPackage(ROOT + ".ingest..")
        .should()
        .dependOnClassesThat(
            JavaClass.Predicates.resideInAPackage(ROOT + ".verifier..")
                .and(DescribedPredicate.not(JavaClass.Predicates.equivalentTo(FileIdentity.class))))
        .because(
            "one FileIdentity type with one device conversion; the rest of the verifier is not the probe's business")
        .check(product);
  }

  @Test
  void pipelineKnowsNoDaemonApiOrCli() {
    module("pipeline", "agent", "api", "cli").check(product);
  }

  @Test
  void apiDependsOnTheVerifierOnly() {
    module("api", "ingest", "sinks", "pipeline", "agent", "cli").check(product);
  }

  @Test
  void grpcStaysInTheApiLayer() {
    // The gRPC transport and the generated messages belong to the Core API's edge: the pure and
    // inner modules never see them (the daemon reaches them only through dev.veriruntime.api).
    for (String inner : new String[] {"verifier", "ingest", "sinks", "pipeline"}) {
      module(inner, "io.grpc", "com.google.protobuf", ROOT + ".api.grpc").check(product);
    }
  }

  @Test
  void webViewReadsTheCoreApiAndTheSinkSpiOnly() {
    // The web view is a client of the Core API and one more sink: it never reaches into the daemon,
    // the probe or the pipeline (the daemon hands it what it shows).
    module("agent.ui", "ingest", "pipeline", "cli", "verifier").check(product);
    noClasses()
        .that()
        .resideInAPackage(ROOT + ".agent.ui..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage(ROOT + ".agent")
        .because("the web view knows the Core API and the Sink SPI, not the daemon")
        .check(product);
  }

  @Test
  void alertIntakeKnowsNoTransport() {
    noClasses()
        .that()
        .resideInAPackage(ROOT + ".api.intake..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("io.netty..", "reactor.netty..", "io.grpc..")
        .orShould()
        .dependOnClassesThat()
        .resideInAPackage(ROOT + ".api")
        .because(
            "the intake is the one entry point that the socket route and gRPC share: it knows"
                + " neither of them")
        .check(product);
  }

  @Test
  void agentKnowsNoCli() {
    module("agent", "cli").check(product);
  }

  @Test
  void nativeCodeHasOneDoor() {
    noClasses()
        .that()
        .resideOutsideOfPackage(ROOT + ".ingest.kernel..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("jnr..", "com.kenai.jffi..")
        .because(
            "every jnr-ffi interface, pointer and jffi memory access lives in"
                + " dev.veriruntime.ingest.kernel")
        .check(product);
  }

  @Test
  void kafkaStaysInTheKafkaSinkAndTheFleetCommand() {
    noClasses()
        .that()
        .resideOutsideOfPackage(ROOT + ".sinks.kafka..")
        .and(
            DescribedPredicate.not(
                JavaClass.Predicates.simpleNameStartingWith("Fleet")
                    .and(JavaClass.Predicates.resideInAPackage(ROOT + ".cli"))))
        .should()
        .dependOnClassesThat()
        .resideInAPackage("org.apache.kafka..")
        .because(
            "the Kafka client is the Kafka sink's business (and the fleet consumer's), no one"
                + " else's")
        .check(product);
  }

  @Test
  void noPackageCycles() {
    slices().matching(ROOT + ".(**)").should().beFreeOfCycles().check(product);
  }

  /** The top-level class that {@code c} is or is nested in. */
  private static JavaClass topLevel(JavaClass c) {
    JavaClass t = c;
    while (t.getEnclosingClass().isPresent()) {
      t = t.getEnclosingClass().get();
    }
    return t;
  }

  private static boolean isCommand(JavaClass c) {
    return c.getPackageName().equals(ROOT + ".cli")
        && topLevel(c).getSimpleName().endsWith("Command");
  }

  @Test
  void noCommandIsALibraryOfAnother() {
    // A parent command names its subcommands in @Command(subcommands = ...): an annotation, not an
    // access, so it passes. Calls, field reads and constructor calls into another command fail.
    ArchCondition<JavaClass> notUseOtherCommands =
        new ArchCondition<>("not call into another command class") {
          @Override
          public void check(JavaClass c, ConditionEvents events) {
            for (JavaAccess<?> a : c.getAccessesFromSelf()) {
              JavaClass target = a.getTargetOwner();
              if (isCommand(target) && !topLevel(target).equals(topLevel(c))) {
                events.add(SimpleConditionEvent.violated(c, a.getDescription()));
              }
            }
            c.getAllFields().stream()
                .filter(f -> f.getOwner().equals(c))
                .filter(
                    f -> isCommand(f.getRawType()) && !topLevel(f.getRawType()).equals(topLevel(c)))
                .forEach(f -> events.add(SimpleConditionEvent.violated(c, f.getFullName())));
          }
        };
    ArchRuleDefinition.classes()
        .that(DescribedPredicate.describe("are commands", ArchitectureTest::isCommand))
        .should(notUseOtherCommands)
        .because("shared code lives in named classes (ReferenceFiles, JsonOutput...), not commands")
        .check(product);
  }
}
