package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.FileIdentity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProcessTableTest {
  private final AtomicLong now = new AtomicLong();
  private final ProcessTable table =
      new ProcessTable(100, new DropLedger(), Duration.ofSeconds(10), now::get);
  private final FileIdentity id = new FileIdentity(1, 2, 3, 4);

  private ProcessTable.Entry entry(int pid, int ppid, String exe) {
    return new ProcessTable.Entry(pid, ppid, exe, id, 0, "comm", null);
  }

  @Test
  void exitedProcessIsStillNamedDuringTheGraceForEventsClassifiedLate() {
    table.started(entry(10, 1, "/tmp/attacher"));
    table.exited(10);
    now.addAndGet(Duration.ofSeconds(9).toNanos());

    assertThat(table.get(10)).map(ProcessTable.Entry::exePath).contains("/tmp/attacher");
    assertThat(table.size()).as("live processes only").isZero();
    assertThat(table.snapshot()).isEmpty();
  }

  @Test
  void aQuietlyStartedProcessIsAdoptedWhenAskedForSoParentChainsNameIt() {
    List<Integer> asked = new ArrayList<>();
    table.adoptUnknownWith(
        pid -> {
          asked.add(pid);
          return pid == 20 ? Optional.of(entry(20, 1, "/usr/bin/make")) : Optional.empty();
        });
    table.started(entry(30, 20, "/tmp/conftest"));

    assertThat(table.parentChain(30, 4)).containsExactly("/usr/bin/make");
    assertThat(table.get(20)).as("kept once adopted").isPresent();
    assertThat(table.parentChain(30, 4)).containsExactly("/usr/bin/make");
    assertThat(asked).as("20 is asked for once, then known").containsOnlyOnce(20);
    assertThat(table.get(99)).isEmpty();
  }

  @Test
  void aChainGoesOnThroughAProcessThatForkedWithoutAnExecWhichIsReadEachTimeAndNeverKept() {
    List<Integer> peeked = new ArrayList<>();
    table.adoptUnknownWith(
        new ProcessTable.Adopter() {
          @Override
          public Optional<ProcessTable.Entry> adopt(int pid) {
            return Optional.empty();
          }

          @Override
          public Optional<ProcessTable.Entry> peek(int pid) {
            peeked.add(pid);
            return pid == 40 ? Optional.of(entry(40, 5, "/usr/sbin/sshd")) : Optional.empty();
          }
        });
    table.started(entry(1, 0, "/sbin/init"));
    table.started(entry(5, 1, "/usr/sbin/sshd"));
    table.started(entry(50, 40, "/tmp/dropper"));

    assertThat(table.ancestryThroughForks(50, 4))
        .extracting(ProcessTable.Entry::exePath)
        .containsExactly("/tmp/dropper", "/usr/sbin/sshd", "/usr/sbin/sshd", "/sbin/init");
    assertThat(table.ancestryThroughForks(50, 4))
        .extracting(ProcessTable.Entry::pid)
        .containsExactly(50, 40, 5, 1);
    assertThat(table.get(40)).as("not kept: its exit would never be seen").isEmpty();
    assertThat(table.size()).isEqualTo(3);
    assertThat(peeked).as("read for each chain").containsExactly(40, 40);
    assertThat(table.ancestry(50, 4))
        .as("lineage's chains keep to the table")
        .extracting(ProcessTable.Entry::pid)
        .containsExactly(50);
    assertThat(table.ancestryThroughForks(60, 4)).as("gone: nothing to read").isEmpty();
  }

  @Test
  void anExitIsKnownOnlyForTheIdentityThatExitedUntilThePidRunsAgain() {
    table.started(entry(10, 1, "/tmp/x"));
    assertThat(table.sawExit(10, id)).isFalse();
    table.exited(10);
    assertThat(table.sawExit(10, id)).isTrue();
    assertThat(table.sawExit(10, new FileIdentity(9, 9, 9, 9))).isFalse();
    table.started(entry(10, 1, "/tmp/y"));
    assertThat(table.sawExit(10, id)).isFalse();
    assertThat(table.sawExit(11, id)).as("never seen").isFalse();
  }

  @Test
  void exitedProcessIsForgottenAfterTheGrace() {
    table.started(entry(10, 1, "/tmp/attacher"));
    table.exited(10);
    now.addAndGet(Duration.ofSeconds(11).toNanos());

    assertThat(table.get(10)).isEmpty();
  }

  @Test
  void anExitPastItsGraceIsForgottenAtTheNextExitSoAQuietHostKeepsNone() {
    table.started(entry(10, 1, "/tmp/a"));
    table.exited(10);
    now.addAndGet(Duration.ofSeconds(11).toNanos());
    table.started(entry(11, 1, "/tmp/b"));
    table.exited(11);

    assertThat(table.sawExit(10, id)).isFalse();
    assertThat(table.sawExit(11, id)).isTrue();
  }

  @Test
  void newExecOfTheSamePidReplacesTheDepartedEntry() {
    table.started(entry(10, 1, "/tmp/old"));
    table.exited(10);
    table.started(entry(10, 1, "/usr/bin/new"));

    assertThat(table.get(10)).map(ProcessTable.Entry::exePath).contains("/usr/bin/new");
    table.exited(10);
    assertThat(table.get(10)).map(ProcessTable.Entry::exePath).contains("/usr/bin/new");
  }

  @Test
  void digestArrivingAfterExitStillReachesTheDepartedEntryOfThatIdentity() {
    table.started(entry(10, 1, "/tmp/jit"));
    table.exited(10);
    table.verified(10, new FileIdentity(9, 9, 9, 9), "other");
    assertThat(table.get(10)).map(ProcessTable.Entry::sha256).isEmpty();

    table.verified(10, id, "abc");
    assertThat(table.get(10)).map(ProcessTable.Entry::sha256).contains("abc");
  }

  @Test
  void parentChainNamesAParentThatAlreadyExited() {
    table.started(entry(5, 1, "/usr/bin/bash"));
    table.started(entry(10, 5, "/tmp/child"));
    table.exited(5);

    assertThat(table.parentChain(10, 4)).containsExactly("/usr/bin/bash");
  }

  @Test
  void departedEntriesAreBounded() {
    for (int pid = 1; pid <= ProcessTable.DEPARTED_CAPACITY + 10; pid++) {
      table.started(entry(pid, 0, "/bin/x" + pid));
      table.exited(pid);
    }

    assertThat(table.get(1)).as("oldest departed entry evicted").isEmpty();
    assertThat(table.get(ProcessTable.DEPARTED_CAPACITY + 10)).isPresent();
  }

  @Test
  void checkOfTheExecutableIsKeptForTheIdentityTheProcessRuns() {
    table.started(entry(10, 1, "/usr/bin/x"));
    table.checked(
        10, ExecutableCheck.unverifiable("/usr/bin/x", new FileIdentity(9, 9, 9, 9), "r"));
    assertThat(table.get(10)).map(ProcessTable.Entry::check).isEmpty();

    ExecutableCheck c = ExecutableCheck.unverifiable("/usr/bin/x", id, "unreadable");
    table.checked(10, c);
    assertThat(table.get(10)).map(ProcessTable.Entry::check).contains(c);
    assertThat(table.get(10)).map(ProcessTable.Entry::sha256).isEmpty();
  }

  @Test
  void exitSeenOnlyInProcRemovesTheEntryUnlessThePidWasTakenAgain() {
    table.started(entry(10, 1, "/tmp/old"));
    ProcessTable.Entry old = table.snapshot().get(0);
    table.started(entry(10, 1, "/usr/bin/new"));
    assertThat(table.exitedUnseen(old)).as("pid 10 runs another executable now").isFalse();
    assertThat(table.size()).isEqualTo(1);

    ProcessTable.Entry current = table.snapshot().get(0);
    assertThat(table.exitedUnseen(current)).isTrue();
    assertThat(table.size()).isZero();
    assertThat(table.get(10)).as("still named during the grace").isPresent();
  }

  @Test
  void beyondCapacityNewProcessesAreRefusedAndCounted() {
    DropLedger ledger = new DropLedger();
    ProcessTable small = new ProcessTable(2, ledger);
    small.started(entry(1, 0, "/a"));
    small.started(entry(2, 0, "/b"));
    small.started(entry(3, 0, "/c"));
    small.started(entry(2, 0, "/b2")); // a known pid is replaced, not refused
    assertThat(small.capacity()).isEqualTo(2);
    assertThat(small.size()).isEqualTo(2);
    assertThat(ledger.totals()).containsEntry("stage.track.table_full", 1L);
  }
}
