package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.ApiClient;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end, as root: the real daemon left idle for a minute says nothing about its own process.
 * Its JVM JITs all the time, and re-attestation runs every second here, as it did when the agent
 * reported its own JIT memory as RUNTIME_DRIFT about once a second. The JIT-runtime packages are
 * taken out of the policy, so that only the agent's rule about itself keeps it quiet.
 */
class AgentQuietIT {
  private static final Duration IDLE = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  void idleForAMinuteTheAgentRaisesNoEventAboutItsOwnProcess() throws Exception {
    KernelTests.assumeKernel();
    Policy policy = Policy.defaults();
    policy.reattestation.intervalSeconds = 1;
    policy.jitRuntimePackages = new ArrayList<>();
    policy.sinks.console.rate = 10_000;
    policy.sinks.console.burst = 10_000;
    EventLines events = new EventLines();
    Path socket = dir.resolve("api.sock");
    Path state = Files.createDirectories(dir.resolve("state"));
    Daemon daemon =
        Daemon.start(
            new Daemon.Settings(
                policy, ReferenceStore.empty(), true, state, state, false, true, socket),
            ProbeSettings.forCurrentProcess(),
            new PrintStream(events, true, StandardCharsets.UTF_8),
            System.err);
    Thread runner = new Thread(() -> daemon.run(null), "quiet-agent");
    runner.start();
    long self = ProcessHandle.current().pid();
    List<Integer> attested = new ArrayList<>();
    try (ApiClient api = ApiClient.connect(socket)) {
      Thread.sleep(IDLE.toMillis()); // real time: what an idle agent does in a minute
      for (JsonNode v : api.listRuntimeState().path("processes")) {
        if (v.path("coverage").has("MEMORY_MAP")) {
          attested.add(v.path("pid").asInt());
        }
      }
    } finally {
      daemon.stop();
      runner.join(Duration.ofSeconds(30).toMillis());
      daemon.close();
    }
    System.out.printf(
        "idle agent (pid %d): %d events in %d s, %d processes re-attested%n",
        self, events.all().size(), IDLE.toSeconds(), attested.size());

    assertThat(attested).as("re-attestation ran meanwhile").isNotEmpty().doesNotContain((int) self);
    assertThat(events.all())
        .as("events about the agent's own process, pid " + self)
        .noneMatch(ev -> ev.path("pid").asLong() == self);
  }
}
