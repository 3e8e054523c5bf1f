package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.pipeline.DropLedger;
import dev.veriruntime.pipeline.ProcessTable;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.process.ExecutableVerifier;
import dev.veriruntime.verifier.process.ProcessPolicy;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.ReattestationPlanner;
import dev.veriruntime.verifier.process.ReattestationScheduler;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;

/** Which events re-verified processes warrant, and what they carry. */
class ReattestationTest {
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-11-23T08:00:00Z"), ZoneOffset.UTC);
  private static final ProcessVerification.Executable EXE =
      new ProcessVerification.Executable(
          "/usr/bin/app", new FileIdentity(7, 11, 1, 100), "a".repeat(64));

  private final Reattestation reattestation = reattestation();

  private static Reattestation reattestation() {
    ProcessVerifier verifier =
        new ProcessVerifier(
            (file, stat, path) -> {
              throw new UnsupportedOperationException("not used by events()");
            },
            ProcessPolicy.defaults(),
            CLOCK);
    RuntimeStateRegistry registry = new RuntimeStateRegistry();
    return rounds(verifier, registry, new ProcessTable(16, new DropLedger()));
  }

  /** Re-attestation into {@code registry} of {@code table}'s processes, eight a round. */
  private static Reattestation rounds(
      ProcessVerifier verifier, RuntimeStateRegistry registry, ProcessTable table) {
    return new Reattestation(
        verifier,
        new ReattestationScheduler(
            verifier,
            new ReattestationPlanner(CLOCK, 1 << 20, Duration.ofSeconds(1)),
            registry,
            CLOCK),
        registry,
        table,
        new Classifier(CLOCK, "host"),
        Duration.ofSeconds(1),
        8,
        Schedulers.immediate());
  }

  @Test
  void aProcessThatEndsWhileARoundVerifiesItIsDroppedNotReported() throws Exception {
    Process sleep = new ProcessBuilder("/usr/bin/sleep", "30").start();
    try {
      int pid = (int) sleep.pid();
      String exe = Path.of("/proc/" + pid + "/exe").toRealPath().toString();
      BinaryVerifier binaries =
          new BinaryVerifier(ReferenceStore.empty(), CLOCK, BinaryVerifier.Options.defaults());
      ExecutableVerifier endAtFirstLibrary =
          (file, stat, path) -> {
            if (!path.equals(exe)) {
              try {
                sleep.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            return binaries.verify(file, stat, path, null);
          };
      ProcessVerifier verifier =
          new ProcessVerifier(endAtFirstLibrary, ProcessPolicy.defaults(), CLOCK);
      RuntimeStateRegistry registry = new RuntimeStateRegistry();
      ProcessTable table = new ProcessTable(16, new DropLedger());
      table.started(new ProcessTable.Entry(pid, 1, exe, null, 0, "sleep", null));
      Reattestation round = rounds(verifier, registry, table);

      assertThat(round.round()).as("nothing left unchecked in a process that is gone").isEmpty();
      assertThat(registry.get(pid)).isEmpty();
      assertThat(table.snapshot()).noneMatch(e -> e.pid() == pid);
    } finally {
      sleep.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aProcessWithAnOpenIncidentIsVerifiedFirstAndEveryPassIsToldToTheListener() throws Exception {
    Process quiet = new ProcessBuilder("/usr/bin/sleep", "30").start();
    Process urgent = new ProcessBuilder("/usr/bin/sleep", "31").start();
    try {
      RuntimeStateRegistry registry = new RuntimeStateRegistry();
      List<Integer> told = new java.util.ArrayList<>();
      withUrgent(registry, 1, urgent, told, quiet, urgent).apply(Duration.ZERO).round();

      assertThat(registry.snapshot())
          .extracting(ProcessVerification::pid)
          .containsExactly((int) urgent.pid());
      assertThat(told).containsExactly((int) urgent.pid());
    } finally {
      quiet.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      urgent.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  /**
   * A round takes a process only once it has run for the minimum age (on a build server most
   * processes live for a second), except one with an open incident.
   */
  @Test
  void aRoundPassesOverAProcessYoungerThanTheMinimumAgeUnlessItIsUrgent() throws Exception {
    Process young = new ProcessBuilder("/usr/bin/sleep", "30").start();
    Process urgent = new ProcessBuilder("/usr/bin/sleep", "31").start();
    try {
      RuntimeStateRegistry registry = new RuntimeStateRegistry();
      var withMinAge = withUrgent(registry, 8, urgent, new java.util.ArrayList<>(), young, urgent);

      withMinAge.apply(Duration.ofHours(1)).round();
      assertThat(registry.snapshot())
          .extracting(ProcessVerification::pid)
          .containsExactly((int) urgent.pid());

      Thread.sleep(300); // the /proc start time counts in hundredths of a second
      withMinAge.apply(Duration.ofMillis(100)).round();
      assertThat(registry.snapshot())
          .extracting(ProcessVerification::pid)
          .containsExactlyInAnyOrder((int) urgent.pid(), (int) young.pid());
    } finally {
      young.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      urgent.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  /**
   * Re-attestation of {@code processes} (running {@code /usr/bin/sleep}) into {@code registry}, by
   * minimum age: {@code perRound} a round, {@code urgent} first, every pass added to {@code told}.
   */
  private static java.util.function.Function<Duration, Reattestation> withUrgent(
      RuntimeStateRegistry registry,
      int perRound,
      Process urgent,
      List<Integer> told,
      Process... processes) {
    BinaryVerifier binaries =
        new BinaryVerifier(ReferenceStore.empty(), CLOCK, BinaryVerifier.Options.defaults());
    ProcessVerifier verifier =
        new ProcessVerifier(
            (file, stat, path) -> binaries.verify(file, stat, path, null),
            ProcessPolicy.defaults(),
            CLOCK);
    ProcessTable table = new ProcessTable(16, new DropLedger());
    for (Process p : processes) {
      table.started(
          new ProcessTable.Entry((int) p.pid(), 1, "/usr/bin/sleep", null, 0, "sleep", null));
    }
    Reattestation.PassListener listener =
        new Reattestation.PassListener() {
          @Override
          public void passed(int pid, java.util.Set<EventType> found) {
            told.add(pid);
          }

          @Override
          public boolean urgent(int pid) {
            return pid == urgent.pid();
          }
        };
    return minAge ->
        new Reattestation(
            verifier,
            new ReattestationScheduler(
                verifier,
                new ReattestationPlanner(CLOCK, 1 << 20, Duration.ofSeconds(1)),
                registry,
                CLOCK),
            registry,
            table,
            new Classifier(CLOCK, "host"),
            Duration.ofSeconds(1),
            perRound,
            Schedulers.immediate(),
            Schedulers.immediate(),
            ProcessHandle.current().pid(),
            listener,
            minAge);
  }

  /** A verifier that fails the test if it is asked to verify anything ({@code what} names it). */
  private static ProcessVerifier neverVerifies(String what) {
    return new ProcessVerifier(
        (file, stat, path) -> {
          throw new AssertionError(what + " was verified: " + path);
        },
        ProcessPolicy.defaults(),
        CLOCK);
  }

  @Test
  void aProcessGoneBeforeItsImmediateVerificationIsNeitherReportedNorRecorded() throws Exception {
    ProcessVerifier verifier = neverVerifies("a process that ended");
    RuntimeStateRegistry registry = new RuntimeStateRegistry();
    ProcessTable table = new ProcessTable(16, new DropLedger());
    Process ended = new ProcessBuilder("true").start();
    assertThat(ended.waitFor(10, TimeUnit.SECONDS)).isTrue();
    int pid = (int) ended.pid();
    table.started(new ProcessTable.Entry(pid, 1, "/usr/bin/true", null, 0, "true", null));
    Reattestation r = rounds(verifier, registry, table);

    // No VERIFICATION_DEGRADED for a process that simply ended: it has no code left to check.
    assertThat(r.verifyNow(pid, "PROC_PID_MEM_WRITE")).isEmpty();
    assertThat(registry.get(pid)).isEmpty();
  }

  @Test
  void theAgentsOwnProcessIsNeverReattested() {
    ProcessVerifier verifier = neverVerifies("the agent's own process");
    RuntimeStateRegistry registry = new RuntimeStateRegistry();
    ProcessTable table = new ProcessTable(16, new DropLedger());
    int self = (int) ProcessHandle.current().pid();
    table.started(new ProcessTable.Entry(self, 1, "/usr/bin/java", null, 0, "java", null));
    Reattestation r = rounds(verifier, registry, table);

    assertThat(r.round()).isEmpty();
    assertThat(registry.get(self)).isEmpty();
  }

  private static ProcessVerification verification(
      List<ScopeResult> results, List<Finding> findings) {
    Coverage coverage = Coverage.of(results);
    return new ProcessVerification(
        42,
        1000,
        Verdict.decide(coverage, true),
        EXE,
        coverage,
        findings,
        CLOCK.instant(),
        0,
        true);
  }

  @Test
  void failedScopeIsDriftNamingTheFindingItsReasonQuotesWithAllItsFindings() {
    Finding relocated =
        new Finding(
            FindingType.TEXT_RELOCATIONS,
            Scope.MEMORY_CODE,
            "libold.so: text relocations",
            Map.of());
    Finding patched =
        new Finding(
            FindingType.CODE_MODIFIED,
            Scope.MEMORY_CODE,
            "code at 0x1000 (.text main) differs",
            Map.of("symbol", "main"));
    Finding other =
        new Finding(FindingType.UNKNOWN_BINARY, Scope.DISK_HASH, "no reference", Map.of());
    ProcessVerification v =
        verification(
            List.of(
                ScopeResult.verified(Scope.DISK_HASH),
                ScopeResult.failed(
                    Scope.MEMORY_CODE,
                    "1 mapping(s) modified in memory; first: " + patched.reason()),
                ScopeResult.verified(Scope.MEMORY_MAP)),
            List.of(other, relocated, patched));

    List<SecurityEvent> events = reattestation.events(v);

    assertThat(events)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.type()).isEqualTo(EventType.RUNTIME_DRIFT);
              assertThat(e.pid()).isEqualTo(42);
              assertThat(e.reason())
                  .isEqualTo(
                      "running process /usr/bin/app: MEMORY_CODE failed: 1 mapping(s) modified in memory; first: "
                          + patched.reason());
              assertThat(e.details())
                  .containsEntry("finding", "CODE_MODIFIED")
                  .containsEntry("check", "re-attestation")
                  .containsEntry("scope", "MEMORY_CODE");
              assertThat(e.findings())
                  .extracting(SecurityEvent.EventFinding::type)
                  .containsExactly("TEXT_RELOCATIONS", "CODE_MODIFIED");
              assertThat(e.findings().get(1).detail()).containsEntry("symbol", "main");
            });
  }

  @Test
  void memoryCodeNotVerifiedIsDegradedAndVerifiedScopesAreSilent() {
    Finding refused =
        new Finding(
            FindingType.READ_REFUSED,
            Scope.MEMORY_CODE,
            "reading the memory was refused",
            Map.of());
    ProcessVerification v =
        verification(
            List.of(
                ScopeResult.notVerified(Scope.MEMORY_CODE, refused.reason()),
                ScopeResult.verified(Scope.MEMORY_MAP)),
            List.of(refused));

    assertThat(reattestation.events(v))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.type()).isEqualTo(EventType.VERIFICATION_DEGRADED);
              assertThat(e.details()).containsEntry("finding", "READ_REFUSED");
              assertThat(e.findings())
                  .extracting(SecurityEvent.EventFinding::type)
                  .containsExactly("READ_REFUSED");
            });
    assertThat(
            reattestation.events(
                verification(
                    List.of(
                        ScopeResult.verified(Scope.MEMORY_CODE),
                        ScopeResult.verified(Scope.MEMORY_MAP)),
                    List.of())))
        .isEmpty();
  }
}
