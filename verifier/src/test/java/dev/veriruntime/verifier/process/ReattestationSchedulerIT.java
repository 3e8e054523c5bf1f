package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.reference.ReferenceStore;
import dev.veriruntime.verifier.testing.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Continuous re-attestation finds a patch made long after the first verification (root). */
class ReattestationSchedulerIT {

  @BeforeAll
  static void root() {
    RootTests.assumeRoot();
  }

  /** VerifyProcess without references (the scans compare memory with files, which needs none). */
  private static ProcessVerifier verifier(MutableClock clock) {
    return new ProcessVerifier(
        ExecutableVerifier.of(
            new BinaryVerifier(ReferenceStore.empty(), clock, BinaryVerifier.Options.defaults())),
        ProcessPolicy.defaults(),
        clock);
  }

  @Test
  void patchMadeAnHourAfterStartIsFoundUnderAByteBudget() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-11-23T08:00:00Z"));
    Path spin = TestPrograms.executable("spin");
    try (TestPrograms.Running p = TestPrograms.start(spin.toString())) {
      ProcessVerifier verifier = verifier(clock);
      RuntimeStateRegistry registry = new RuntimeStateRegistry();
      registry.record(verifier.verify(p.pid()));
      assertThat(
              registry.get(p.pid()).orElseThrow().scope(Scope.MEMORY_CODE).orElseThrow().status())
          .isEqualTo(ScopeStatus.VERIFIED);

      long budget =
          256 << 10; // 256 KiB per second: a full pass of this process takes several seconds
      ReattestationPlanner planner = new ReattestationPlanner(clock, budget, Duration.ofSeconds(1));
      ReattestationScheduler scheduler =
          new ReattestationScheduler(verifier, planner, registry, clock);

      clock.advance(Duration.ofHours(1));
      long address = CodeScanIT.symbolAddress(p.pid(), spin, "patch_target") + 2;
      CodeScanIT.ProcessPatcher.write(p.pid(), address, new byte[] {(byte) 0xeb, (byte) 0xfe});

      List<ProcessVerification> updates = new ArrayList<>();
      int seconds = 0;
      while (updates.isEmpty() && seconds < 600) {
        clock.advance(Duration.ofSeconds(1));
        updates.addAll(scheduler.tick());
        seconds++;
      }
      assertThat(seconds).as("a pass needs several budget periods").isGreaterThan(1);
      ProcessVerification now = updates.get(0);
      assertThat(now.verdict()).isEqualTo(Verdict.FAILED);
      assertThat(now.checkedAt()).isEqualTo(clock.instant());
      assertThat(now.findings())
          .filteredOn(f -> f.type() == FindingType.CODE_MODIFIED)
          .singleElement()
          .satisfies(
              f ->
                  assertThat(f.detail())
                      .containsEntry("address", String.format("0x%x", address))
                      .containsEntry("symbol", "patch_target+0x2"));
      assertThat(registry.get(p.pid()).orElseThrow()).isEqualTo(now);
      // Other scopes were not redone: still what the first verification found.
      assertThat(now.scope(Scope.DISK_HASH))
          .isEqualTo(registry.get(p.pid()).orElseThrow().scope(Scope.DISK_HASH));
    }
  }

  @Test
  void libraryLoadedLongAfterStartIsFoundByTheNextPass() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-11-23T08:00:00Z"));
    Path lib = TestPrograms.library("preload");
    try (TestPrograms.Running p =
        TestPrograms.start(
            java.util.Map.of("SPIN_LATE_LIB", lib.toString()),
            TestPrograms.executable("spin").toString())) {
      ProcessVerifier verifier = verifier(clock);
      RuntimeStateRegistry registry = new RuntimeStateRegistry();
      registry.record(verifier.verify(p.pid()));
      assertThat(registry.get(p.pid()).orElseThrow().findings())
          .noneMatch(f -> f.type() == FindingType.UNEXPECTED_LIBRARY);
      ReattestationScheduler scheduler =
          new ReattestationScheduler(
              verifier,
              new ReattestationPlanner(clock, 64 << 20, Duration.ofSeconds(1)),
              registry,
              clock);

      clock.advance(Duration.ofHours(2));
      new ProcessBuilder("kill", "-USR1", Integer.toString(p.pid())).start().waitFor();
      assertThat(p.nextLine()).isEqualTo("loaded");
      clock.advance(Duration.ofSeconds(1));
      List<ProcessVerification> updates = scheduler.tick();

      assertThat(updates)
          .singleElement()
          .satisfies(
              v -> {
                assertThat(v.scope(Scope.MEMORY_MAP).orElseThrow().status())
                    .isEqualTo(ScopeStatus.FAILED);
                assertThat(v.findings())
                    .filteredOn(f -> f.type() == FindingType.UNEXPECTED_LIBRARY)
                    .singleElement()
                    .satisfies(
                        f -> assertThat(f.reason()).contains(lib.toString()).contains("dlopen"));
                assertThat(v.checkedAt()).isEqualTo(clock.instant());
              });
    }
  }

  @Test
  void aProcessIsPassedOverAgainOnlyOnceTheRevisitIntervalPassed() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-11-23T08:00:00Z"));
    try (TestPrograms.Running p = TestPrograms.start(TestPrograms.executable("spin").toString())) {
      ProcessVerifier verifier = verifier(clock);
      RuntimeStateRegistry registry = new RuntimeStateRegistry();
      registry.record(verifier.verify(p.pid()));
      ReattestationScheduler scheduler =
          new ReattestationScheduler(
              verifier,
              new ReattestationPlanner(
                  clock, 64 << 20, Duration.ofSeconds(1), Duration.ofSeconds(60)),
              registry,
              clock);

      // Just verified in full: not due, no scan started (its maps are not even read).
      clock.advance(Duration.ofSeconds(30));
      assertThat(scheduler.tick()).isEmpty();
      assertThat(scheduler.scansInProgress()).isZero();

      clock.advance(Duration.ofSeconds(30));
      assertThat(scheduler.tick())
          .singleElement()
          .extracting(ProcessVerification::pid)
          .isEqualTo(p.pid());
      Instant passed = clock.instant();

      // The next second's budget is there, but the pass just completed: nothing until 60 s later.
      for (int s = 1; s < 60; s++) {
        clock.advance(Duration.ofSeconds(1));
        assertThat(scheduler.tick()).as("second %d after the pass", s).isEmpty();
      }
      clock.advance(Duration.ofSeconds(1));
      assertThat(scheduler.tick())
          .singleElement()
          .satisfies(v -> assertThat(v.checkedAt()).isEqualTo(passed.plusSeconds(60)));
    }
  }

  @Test
  void aProcessThatExitsDuringItsPassIsForgottenNotReported() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-11-23T08:00:00Z"));
    ProcessVerifier verifier = verifier(clock);
    RuntimeStateRegistry registry = new RuntimeStateRegistry();
    // One page per second: the pass is still going when the process exits.
    ReattestationScheduler scheduler =
        new ReattestationScheduler(
            verifier,
            new ReattestationPlanner(clock, ReattestationPlanner.MIN_GRANT, Duration.ofSeconds(1)),
            registry,
            clock);
    int pid;
    try (TestPrograms.Running p = TestPrograms.start(TestPrograms.executable("spin").toString())) {
      pid = p.pid();
      registry.record(verifier.verify(pid));
      clock.advance(Duration.ofSeconds(1));
      assertThat(scheduler.tick()).isEmpty();
      assertThat(scheduler.scansInProgress()).as("a pass under way").isOne();
    }
    clock.advance(Duration.ofSeconds(1));

    assertThat(scheduler.tick()).as("no update for the exited process").isEmpty();
    assertThat(registry.get(pid)).isEmpty();
    assertThat(scheduler.scansInProgress()).isZero();
  }

  @Test
  void exitedProcessesAreForgotten() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-11-23T08:00:00Z"));
    ProcessVerifier verifier = verifier(clock);
    RuntimeStateRegistry registry = new RuntimeStateRegistry();
    try (TestPrograms.Running p = TestPrograms.start(TestPrograms.executable("spin").toString())) {
      registry.record(verifier.verify(p.pid()));
    }
    ReattestationScheduler scheduler =
        new ReattestationScheduler(
            verifier,
            new ReattestationPlanner(clock, 1 << 20, Duration.ofSeconds(1)),
            registry,
            clock);
    clock.advance(Duration.ofSeconds(1));
    scheduler.tick();
    assertThat(registry.size()).isZero();
    assertThat(scheduler.scansInProgress()).isZero();
  }
}
