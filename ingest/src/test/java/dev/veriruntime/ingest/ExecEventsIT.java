package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.LostEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.testing.ExecDriver;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.FileIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/**
 * End to end through the product probe: real execs of a freshly compiled program must each yield
 * one ExecEvent with the right pid, path and kernel identity, and its libraries must show up as
 * executable mappings. Also measures exec-to-Java latency (printed, not asserted).
 */
class ExecEventsIT {
  static final int RUNS = 1000;
  @TempDir static Path dir;
  static ExecDriver driver;

  /** An event and the CLOCK_MONOTONIC time Java received it (inside the ring callback). */
  record Received(RuntimeEvent event, long receivedNanos) {}

  @BeforeAll
  static void build() throws Exception {
    KernelTests.assumeKernel();
    driver = ExecDriver.build(dir);
  }

  static Flux<Received> received(Probe probe) {
    var decode = EventSource.decoder();
    return RingBufferReader.flux(
        probe,
        record -> new Received(decode.apply(record), System.nanoTime()),
        window -> new Received(EventSource.lostEvent(window), System.nanoTime()),
        RingBufferReader.DEFAULT_LOST_CHECK_INTERVAL);
  }

  @Test
  void everyExecOfAFreshBinaryIsReportedWithItsKernelIdentity() throws Exception {
    String comm = driver.child.getFileName().toString();
    List<Received> ours = Collections.synchronizedList(new ArrayList<>());
    List<LostEvent> losses = Collections.synchronizedList(new ArrayList<>());
    ExecDriver.Run run;
    AttachReport report;
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess())) {
      report = probe.attachReport();
      received(probe)
          .subscribe(
              r -> {
                if (r.event() instanceof LostEvent lost) {
                  losses.add(lost);
                } else if (r.event() instanceof ExecEvent e && e.task().comm().equals(comm)
                    || r.event() instanceof ExecMappingEvent m && m.task().comm().equals(comm)) {
                  ours.add(r);
                }
              });
      run = driver.count(RUNS);
    } // close: drain, final loss report, complete
    System.out.println("attach report:\n" + report.describe());

    assertThat(run.succeeded()).isEqualTo(RUNS);
    assertThat(losses)
        .as("no exec may be lost at this rate")
        .allSatisfy(l -> assertThat(l.total()).isZero());

    List<ExecEvent> execs =
        ours.stream()
            .map(Received::event)
            .filter(ExecEvent.class::isInstance)
            .map(ExecEvent.class::cast)
            .toList();
    assertThat(execs).hasSize(RUNS);
    assertThat(execs.stream().map(e -> (long) e.task().tgid()).collect(Collectors.toSet()))
        .isEqualTo(new HashSet<>(run.childPids()));

    Map<String, Object> stat = Files.readAttributes(driver.child, "unix:dev,ino,ctime,size");
    FileIdentity expected =
        new FileIdentity(
            FileIdentity.kernelDev((Long) stat.get("dev")),
            (Long) stat.get("ino"),
            ((FileTime) stat.get("ctime")).to(TimeUnit.NANOSECONDS),
            (Long) stat.get("size"));
    assertThat(execs)
        .allSatisfy(
            e -> {
              assertThat(e.file().identity()).isEqualTo(expected);
              assertThat(e.file().path()).isEqualTo(driver.child.toString());
              assertThat(e.filename()).isEqualTo(driver.child.toString());
              assertThat(e.task().pid()).isEqualTo(e.task().tgid());
              assertThat(e.file().deleted()).isFalse();
            });

    List<ExecMappingEvent> mappings =
        ours.stream()
            .map(Received::event)
            .filter(ExecMappingEvent.class::isInstance)
            .map(ExecMappingEvent.class::cast)
            .toList();
    Set<String> mappedFiles =
        mappings.stream()
            .map(m -> Path.of(m.file().path()).getFileName().toString())
            .collect(Collectors.toSet());
    System.out.println(
        "executable mappings seen for the child: "
            + mappedFiles
            + " ("
            + mappings.size()
            + " events)");
    Set<Integer> pidsWithLibc =
        mappings.stream()
            .filter(m -> m.file().path().endsWith("/libc.so.6"))
            .map(m -> m.task().tgid())
            .collect(Collectors.toSet());
    assertThat(pidsWithLibc).as("every run maps libc executable").hasSize(RUNS);
    assertThat(mappings)
        .filteredOn(m -> m.file().path().endsWith("/libc.so.6"))
        .allSatisfy(
            m ->
                assertThat(Files.readAttributes(Path.of(m.file().path()), "unix:ino").get("ino"))
                    .isEqualTo(m.file().identity().inode()));

    long[] latencies =
        ours.stream()
            .filter(r -> r.event() instanceof ExecEvent)
            .mapToLong(r -> r.receivedNanos() - r.event().kernelTimeNanos())
            .sorted()
            .toArray();
    assertThat(latencies[0])
        .as("kernel time and System.nanoTime share CLOCK_MONOTONIC")
        .isPositive();
    System.out.printf(
        "exec->Java latency over %d execs: p50 %.1f us, p99 %.1f us, max %.1f us%n",
        latencies.length,
        latencies[latencies.length / 2] / 1e3,
        latencies[(int) (latencies.length * 0.99)] / 1e3,
        latencies[latencies.length - 1] / 1e3);
    System.out.println("latency sample (ns): " + Arrays.toString(Arrays.copyOf(latencies, 3)));
  }
}
