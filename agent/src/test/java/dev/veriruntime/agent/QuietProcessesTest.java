package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.ProcScanner;
import dev.veriruntime.pipeline.ProcessTable;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class QuietProcessesTest {
  @Test
  void aPeekedProcessIsReadOnceForABurstOfEventsUnderIt() throws Exception {
    QuietProcesses quiet = new QuietProcesses(null, new ProcScanner()); // peek needs no probe
    Process child = new ProcessBuilder("sleep", "30").start();
    try {
      int pid = (int) child.pid();
      Optional<ProcessTable.Entry> first = quiet.peek(pid);
      assertThat(first).hasValueSatisfying(e -> assertThat(e.exePath()).endsWith("sleep"));

      child.destroy();
      assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(quiet.peek(pid))
          .as("within %s the first read is reused, not /proc read again", QuietProcesses.PEEK_REUSE)
          .containsSame(first.get());
    } finally {
      child.destroyForcibly();
    }
  }

  @Test
  void aPidThatIsNotRunningIsNotFound() {
    // pid_max is at most 2^22 on Linux: this pid never exists.
    assertThat(new QuietProcesses(null, new ProcScanner()).peek(1 << 23)).isEmpty();
  }
}
