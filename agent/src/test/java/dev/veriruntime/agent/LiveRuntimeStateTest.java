package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.ProcScanner;
import dev.veriruntime.pipeline.DropLedger;
import dev.veriruntime.pipeline.ExecutableCheck;
import dev.veriruntime.pipeline.ProcessTable;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.process.ProcFs;
import dev.veriruntime.verifier.process.ProcessState;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.process.RuntimeState;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Over the real /proc: the table joined with re-attestation, checked against what runs now. */
class LiveRuntimeStateTest {
  private static final Instant T0 = Instant.parse("2026-12-03T08:00:00Z");
  private static final Set<Scope> EXEC = Set.of(Scope.DISK_HASH, Scope.ELF_HEADER);
  private static final Set<Scope> DEEP = Set.of(Scope.MEMORY_MAP, Scope.MEMORY_CODE);

  private final ProcScanner scanner = new ProcScanner();
  private final DropLedger ledger = new DropLedger();
  private final ProcessTable table = new ProcessTable(16, ledger);
  private final RuntimeStateRegistry reattested = new RuntimeStateRegistry();
  private final int self = (int) ProcessHandle.current().pid();
  private Process sleeper;

  @BeforeEach
  void startSleeper() throws Exception {
    sleeper = new ProcessBuilder("sleep", "60").start();
  }

  @AfterEach
  void stopSleeper() throws Exception {
    sleeper.destroyForcibly().waitFor();
  }

  private FileIdentity identity(int pid) throws Exception {
    return scanner.process(pid).orElseThrow().executable().get().identity();
  }

  private static BinaryVerification binary(String path, FileIdentity id) {
    return new BinaryVerification(
        Verdict.VERIFIED,
        path,
        "ab".repeat(32),
        id,
        Coverage.of(ScopeResult.verified(Scope.DISK_HASH), ScopeResult.verified(Scope.ELF_HEADER)),
        List.of(),
        null,
        T0);
  }

  private LiveRuntimeState state(Function<FileIdentity, Optional<ExecutableCheck>> cache) {
    return new LiveRuntimeState(
        table, reattested, cache, ProcFs.host(), scanner, ledger, EXEC, DEEP);
  }

  @Test
  void listsTrackedProcessesWithExecTimeVerdictsUntilReattestedAndDropsEndedOnes()
      throws Exception {
    int pid = (int) sleeper.pid();
    FileIdentity sleepId = identity(pid);
    table.started(new ProcessTable.Entry(pid, self, "/usr/bin/sleep", sleepId, 0, "sleep", null));
    table.checked(pid, ExecutableCheck.of(binary("/usr/bin/sleep", sleepId)));
    Process ended = new ProcessBuilder("true").start();
    ended.waitFor();
    table.started(
        new ProcessTable.Entry((int) ended.pid(), self, "/usr/bin/true", sleepId, 0, "true", null));
    ledger.add("stage.track.table_full", 3);

    RuntimeState first = state(id -> Optional.empty()).snapshot();
    Map<Integer, ProcessState> byPid =
        first.processes().stream().collect(Collectors.toMap(ProcessState::pid, p -> p));
    ProcessState sleep = byPid.get(pid);
    assertThat(sleep.tracked()).isTrue();
    assertThat(sleep.ppid()).isEqualTo(self);
    assertThat(sleep.execCheckedAt()).isEqualTo(T0);
    assertThat(sleep.reattested()).isFalse();
    assertThat(sleep.verdict()).as("memory not checked yet").isEqualTo(Verdict.DEGRADED);
    assertThat(sleep.coverage().get(Scope.MEMORY_CODE).get().reason())
        .isEqualTo(ProcessState.NOT_YET_REATTESTED);
    assertThat(byPid).as("ended without an exit event").doesNotContainKey((int) ended.pid());
    assertThat(table.size()).as("and removed from the table").isEqualTo(1);
    assertThat(byPid).as("kernel threads are counted, not listed").doesNotContainKey(2);
    assertThat(first.kernelThreads()).isPositive();
    assertThat(first.capacity()).isEqualTo(16);
    assertThat(first.refusedAtCapacity()).isEqualTo(3);

    ProcessState me = byPid.get(self);
    assertThat(me.tracked()).as("this JVM was never in the table").isFalse();
    assertThat(me.execCheckedAt()).isNull();
    assertThat(me.coverage().get(Scope.DISK_HASH).get().status())
        .isEqualTo(ScopeStatus.NOT_VERIFIED);
    assertThat(first.untracked()).isEqualTo(first.processes().size() - 1);

    reattested.record(
        new ProcessVerification(
            pid,
            1,
            Verdict.VERIFIED,
            new ProcessVerification.Executable("/usr/bin/sleep", sleepId, "ab".repeat(32)),
            Coverage.of(
                ScopeResult.verified(Scope.DISK_HASH), ScopeResult.verified(Scope.MEMORY_CODE)),
            List.of(),
            T0.plusSeconds(60),
            4096,
            true));
    FileIdentity selfId = identity(self);
    RuntimeState second =
        state(
                id ->
                    id.equals(selfId)
                        ? Optional.of(ExecutableCheck.of(binary("/java", selfId)))
                        : Optional.empty())
            .snapshot();
    byPid = second.processes().stream().collect(Collectors.toMap(ProcessState::pid, p -> p));
    assertThat(byPid.get(pid).reattested()).isTrue();
    assertThat(byPid.get(pid).verdict()).isEqualTo(Verdict.VERIFIED);
    assertThat(byPid.get(pid).execCheckedAt()).isEqualTo(T0);
    assertThat(byPid.get(pid).reattestedAt()).isEqualTo(T0.plusSeconds(60));
    assertThat(byPid.get(self).execCheckedAt()).as("its executable's cached check").isEqualTo(T0);
  }

  @Test
  void aReattestationOfAnEarlierImageOfThePidIsNotUsed() throws Exception {
    int pid = (int) sleeper.pid();
    table.started(
        new ProcessTable.Entry(pid, self, "/usr/bin/sleep", identity(pid), 0, "sleep", null));
    reattested.record(
        new ProcessVerification(
            pid,
            1,
            Verdict.VERIFIED,
            new ProcessVerification.Executable(
                "/usr/bin/bash", new FileIdentity(9, 9, 9, 9), "cd".repeat(32)),
            Coverage.of(ScopeResult.verified(Scope.MEMORY_CODE)),
            List.of(),
            T0,
            0,
            true));
    ProcessState sleep =
        state(id -> Optional.empty()).snapshot().processes().stream()
            .filter(p -> p.pid() == pid)
            .findFirst()
            .orElseThrow();
    assertThat(sleep.reattested()).isFalse();
    assertThat(sleep.executable().path()).isEqualTo("/usr/bin/sleep");
    assertThat(sleep.execCheckedAt()).as("exec-time check pending").isNull();
  }

  @Test
  void aZombieIsNotListed() throws Exception {
    // sh forks `true` and becomes sleep, which never reaps it: a zombie until sleep ends.
    Process parent = new ProcessBuilder("sh", "-c", "true & exec sleep 60").start();
    try {
      int zombie = awaitZombieChild((int) parent.pid());
      RuntimeState s = state(id -> Optional.empty()).snapshot();
      assertThat(s.processes()).noneMatch(p -> p.pid() == zombie);
      assertThat(s.processes()).anyMatch(p -> p.pid() == parent.pid());
    } finally {
      parent.destroyForcibly().waitFor();
    }
  }

  private static int awaitZombieChild(int pid) throws Exception {
    Path children = Path.of("/proc", "" + pid, "task", "" + pid, "children");
    for (int i = 0; i < 200; i++) {
      String list = Files.exists(children) ? Files.readString(children).trim() : "";
      if (!list.isEmpty()) {
        int child = Integer.parseInt(list.split(" ")[0]);
        String stat = Files.readString(Path.of("/proc", "" + child, "stat"));
        if (stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z")) {
          return child;
        }
      }
      Thread.sleep(20); // waiting on real processes
    }
    throw new AssertionError("no zombie child of " + pid);
  }
}
