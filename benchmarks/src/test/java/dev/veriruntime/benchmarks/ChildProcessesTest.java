package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChildProcessesTest {
  @Test
  void stopsEveryDescendantAndKillsOneThatIgnoresSigterm() throws Exception {
    // A parent standing in for the harness, with a plain child and one that ignores SIGTERM (as a
    // hung bpftrace did) and keeps starting children of its own.
    Process parent =
        new ProcessBuilder(
                "sh", "-c", "sleep 60 & (trap '' TERM; while :; do sleep 0.2; done) & wait")
            .start();
    try {
      List<ProcessHandle> started = List.of();
      for (int i = 0; i < 100 && started.size() < 3; i++) {
        Thread.sleep(50);
        started = parent.descendants().toList();
      }
      assertThat(started).hasSizeGreaterThanOrEqualTo(3);

      int stopped = ChildProcesses.stop(parent.toHandle(), Duration.ofMillis(500));

      assertThat(stopped).isGreaterThanOrEqualTo(3);
      for (ProcessHandle h : started) {
        h.onExit().get(5, TimeUnit.SECONDS);
        assertThat(h.isAlive()).as("pid %d", h.pid()).isFalse();
      }
    } finally {
      parent.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }
}
