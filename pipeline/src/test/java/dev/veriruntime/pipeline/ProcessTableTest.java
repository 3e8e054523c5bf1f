package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.FileIdentity;
import java.time.Duration;
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
  void exitedProcessIsForgottenAfterTheGrace() {
    table.started(entry(10, 1, "/tmp/attacher"));
    table.exited(10);
    now.addAndGet(Duration.ofSeconds(11).toNanos());

    assertThat(table.get(10)).isEmpty();
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
}
