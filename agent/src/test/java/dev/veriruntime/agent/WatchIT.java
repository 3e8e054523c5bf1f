package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.testing.ExecDriver;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end, as root: the real probe, the real pipeline and the console sink in JSON. An unknown
 * binary executed 10,000 times is one immediate UNKNOWN_EXECUTION plus folded counts that add up;
 * package-owned binaries the machine runs meanwhile raise nothing.
 */
class WatchIT {
  @TempDir Path dir;

  private final ObjectMapper json = new ObjectMapper();

  @Test
  void unknownBinaryRunTenThousandTimesIsOneImmediateEventAndCountsThatAddUp() throws Exception {
    KernelTests.assumeKernel();
    ExecDriver driver = ExecDriver.build(dir);
    Policy policy = Policy.defaults();
    policy.aggregation.windowSeconds = 2;
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
    Daemon daemon =
        Daemon.start(
            new Daemon.Settings(policy, ReferenceStore.empty(), true, dir, dir, false, true),
            ProbeSettings.forCurrentProcess(),
            out,
            System.err);
    Thread runner = new Thread(() -> daemon.run(null), "watch-under-test");
    runner.start();
    ExecDriver.Run run;
    String child = driver.child.toString();
    try {
      run = driver.count(10_000);
      new ProcessBuilder("/usr/bin/true").start().waitFor();
      awaitEvent(
          buffer,
          e ->
              "UNKNOWN_EXECUTION".equals(e.path("type").asText())
                  && child.equals(e.path("exe").path("path").asText()));
    } finally {
      daemon.stop();
      runner.join(Duration.ofSeconds(30).toMillis());
      daemon.close();
    }

    List<JsonNode> events = parse(buffer);
    List<JsonNode> unknown =
        events.stream()
            .filter(
                e ->
                    "UNKNOWN_EXECUTION".equals(e.path("type").asText())
                        && child.equals(e.path("exe").path("path").asText()))
            .toList();
    long lostExecs =
        events.stream()
            .filter(e -> "VERIFICATION_DEGRADED".equals(e.path("type").asText()))
            .mapToLong(e -> e.path("details").path("lost").path("kernel.exec").asLong(0))
            .sum();
    assertThat(unknown).isNotEmpty();
    assertThat(unknown.get(0).path("count").asLong()).isEqualTo(1);
    assertThat(unknown.get(0).path("reason").asText()).contains("no trusted reference");
    long counted = unknown.stream().mapToLong(e -> e.path("count").asLong()).sum();
    // The kernel's lost counters cover every process on the host, not only ours: with no loss the
    // counts must add up exactly; with loss, every exec is either counted or within the lost ones.
    if (lostExecs == 0) {
      assertThat(counted).isEqualTo(run.succeeded());
    } else {
      assertThat(counted).isLessThanOrEqualTo(run.succeeded());
      assertThat(counted + lostExecs).isGreaterThanOrEqualTo(run.succeeded());
    }
    assertThat(unknown.size()).as("folded, not one event per exec").isLessThan(50);
    assertThat(events).noneMatch(e -> e.path("exe").path("path").asText().equals("/usr/bin/true"));
    assertThat(events)
        .as("probe links and tags checked one second after start")
        .noneMatch(e -> "SELF_INTEGRITY_FAILURE".equals(e.path("type").asText()));
    var latency = daemon.metrics().execLatencyTimer().takeSnapshot();
    System.out.printf(
        "exec->verdict latency over %d execs: mean %.3f ms, max %.3f ms%n",
        latency.count(), latency.mean(TimeUnit.MILLISECONDS), latency.max(TimeUnit.MILLISECONDS));
  }

  private void awaitEvent(ByteArrayOutputStream buffer, Predicate<JsonNode> wanted)
      throws Exception {
    Instant deadline = Instant.now().plusSeconds(60);
    while (Instant.now().isBefore(deadline)) {
      if (parse(buffer).stream().anyMatch(wanted)) {
        return;
      }
      Thread.onSpinWait();
      Thread.sleep(50); // waiting on a real external process, not on a Reactor timer
    }
  }

  private List<JsonNode> parse(ByteArrayOutputStream buffer) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : buffer.toString(StandardCharsets.UTF_8).split("\n")) {
      if (line.startsWith("{")) {
        out.add(json.readTree(line));
      }
    }
    return out;
  }
}
