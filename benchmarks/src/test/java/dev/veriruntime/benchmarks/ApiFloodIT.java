package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.testing.KernelTests;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * As root, with the real probe: the short API flood (benchmarks/api-flood.sh runs the long one)
 * against the real {@code watch}, started by bin/veriruntime. Latency ratios are reported, not
 * asserted (the machine is shared); what must hold is that the daemon keeps verifying and
 * answering.
 */
class ApiFloodIT {
  @Test
  void underHundredsOfSilentHalfOpenSlowAndMalformedConnectionsTheDaemonKeepsAnswering()
      throws Exception {
    KernelTests.assumeKernel();
    ApiFlood flood = new ApiFlood();
    flood.seconds = 8;
    flood.idle = 200;
    flood.partial = 50;
    flood.slowReaders = 10;
    flood.malformedThreads = 2;
    flood.usualCalls = 20;
    flood.root = Path.of("..").toAbsolutePath().normalize();

    ApiFlood.Result r = flood.run();
    System.err.println("api-flood IT: " + ApiFlood.summary(r));

    assertThat(r.execVerdictDuringFlood()).as("an exec during the flood got its verdict").isTrue();
    assertThat(r.duringFlood().calls()).isPositive();
    // In the first instant of a burst every slot may hold a connection younger than the eviction
    // grace: such a probe is refused with a counted 503, never reset or left unanswered.
    assertThat(r.probeOutcomes().keySet())
        .as("probe outcomes %s", r.probeOutcomes())
        .isSubsetOf("answered", "status 503");
    assertThat(r.duringFlood().answered())
        .as("health probes answered during the flood: %s", r.probeOutcomes())
        .isGreaterThanOrEqualTo(r.duringFlood().calls() * 8 / 10);
    assertThat(r.serverCounters().get("veriruntime_api_connections_over_limit_total"))
        .isGreaterThanOrEqualTo(r.probeOutcomes().getOrDefault("status 503", 0L));
    assertThat(r.serverCounters().get("veriruntime_api_connections_evicted_total"))
        .as("silent connections gave way")
        .isPositive();
    assertThat(r.serverCounters().get("veriruntime_api_requests_malformed_total")).isPositive();
    assertThat(r.malformedAnswers()).doesNotContainKey("500 Internal Server Error");
    assertThat(r.usualAfter().answered()).isEqualTo(r.usualAfter().calls());
    // Every flood connection was closed: the agent's descriptors are back near where they were.
    assertThat(r.fdsAfter()).isLessThanOrEqualTo(r.fdsBefore() + 5);
  }
}
