package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.testing.ExecDriver;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.FileIdentity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

/**
 * The probe's mapping filter against the real kernel: once a file is given to {@link
 * Probe#skipMappingsOf}, its executable mappings are counted instead of reported, and {@link
 * Probe#reportAllMappings} brings them back. Needs root and a BPF-capable kernel.
 */
class MappingFilterIT {
  static final int RUNS = 20;
  @TempDir static Path dir;
  static ExecDriver driver;

  @BeforeAll
  static void build() throws Exception {
    KernelTests.assumeKernel();
    driver = ExecDriver.build(dir);
  }

  @Test
  void mappingsOfASkippedFileAreCountedNotReported() throws Exception {
    String comm = driver.child.getFileName().toString();
    List<RuntimeEvent> ours = Collections.synchronizedList(new ArrayList<>());
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess())) {
      Disposable reading =
          EventSource.live(probe)
              .subscribe(
                  e -> {
                    if (e instanceof ExecMappingEvent m && m.task().comm().equals(comm)
                        || e instanceof ExitEvent x && x.task().comm().equals(comm)) {
                      ours.add(e);
                    }
                  });
      try {
        List<ExecMappingEvent> before = libcMappings(runAndCollect(ours));
        assertThat(before).as("every run maps libc executable").hasSize(RUNS);
        FileIdentity libc = before.get(0).file().identity();

        long filteredBefore = probe.filteredMappings();
        assertThat(probe.skipMappingsOf(libc)).isTrue();
        List<ExecMappingEvent> skipped = libcMappings(runAndCollect(ours));
        assertThat(skipped).as("libc mappings while skipped").isEmpty();
        assertThat(probe.filteredMappings() - filteredBefore).isGreaterThanOrEqualTo(RUNS);

        assertThat(probe.reportAllMappings()).isEqualTo(1);
        assertThat(libcMappings(runAndCollect(ours)))
            .as("reported again after reportAllMappings")
            .hasSize(RUNS);
      } finally {
        reading.dispose();
      }
    }
  }

  /**
   * Runs the child RUNS times and returns the events of those runs, once each run's exit arrived.
   */
  private static List<RuntimeEvent> runAndCollect(List<RuntimeEvent> ours) throws Exception {
    ours.clear();
    ExecDriver.Run run = driver.count(RUNS);
    assertThat(run.succeeded()).isEqualTo(RUNS);
    Set<Long> pids = new HashSet<>(run.childPids());
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    // A child's exit record is reserved after its mmap records, so once every exit is here, so is
    // every mapping of those runs.
    while (exitedPids(ours).size() < pids.size() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(exitedPids(ours)).containsAll(pids);
    synchronized (ours) {
      return List.copyOf(ours);
    }
  }

  private static Set<Long> exitedPids(List<RuntimeEvent> events) {
    Set<Long> pids = new HashSet<>();
    synchronized (events) {
      for (RuntimeEvent e : events) {
        if (e instanceof ExitEvent x) {
          pids.add((long) x.task().tgid());
        }
      }
    }
    return pids;
  }

  private static List<ExecMappingEvent> libcMappings(List<RuntimeEvent> events) {
    return events.stream()
        .filter(ExecMappingEvent.class::isInstance)
        .map(ExecMappingEvent.class::cast)
        .filter(m -> m.file().path().endsWith("/libc.so.6"))
        .toList();
  }
}
