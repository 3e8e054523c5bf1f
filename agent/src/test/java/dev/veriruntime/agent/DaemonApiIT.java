package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.api.ApiClient;
import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.CoreApis;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * As root, with the real probe: the daemon serves the Core API on its socket from start until
 * close, and a second daemon that cannot take the socket still watches and reports the gap.
 */
class DaemonApiIT {
  @TempDir Path dir;

  @Test
  void daemonServesHealthAndVerifyProcessAndASecondDaemonReportsTheTakenSocket() throws Exception {
    KernelTests.assumeKernel();
    Path socket = dir.resolve("run").resolve("api.sock");
    Daemon first =
        start(socket, dir.resolve("a"), new ByteArrayOutputStream(), new ByteArrayOutputStream());
    try {
      assertThat(CoreApis.probe(socket)).isEqualTo(CoreApis.DaemonStatus.RUNNING);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())))
          .isEqualTo("rwxr-xr-x");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)))
          .isEqualTo("rw-------");
      try (ApiClient client = ApiClient.connect(socket)) {
        JsonNode health = client.health();
        assertThat(health.get("probe").get("attached")).isNotEmpty();
        assertThat(health.get("references").asInt()).isZero();
        assertThat(health.get("uptimeSeconds").asLong()).isNotNegative();
        assertThat(health.get("dropped").isObject()).isTrue();
        List<String> sinks = new ArrayList<>();
        health.get("sinks").forEach(s -> sinks.add(s.get("sink").asText()));
        assertThat(sinks).hasSize(2); // console and journal
        int pid = (int) ProcessHandle.current().pid();
        assertThat(client.verifyProcess(pid).get("pid").asInt()).isEqualTo(pid);
        assertThat(client.listRuntimeState().get("processes").isArray()).isTrue();
        ApiException missing =
            Assertions.assertThrows(ApiException.class, () -> client.getEvidence("no-such-event"));
        assertThat(missing.code()).isEqualTo(ApiException.Code.NOT_FOUND);
      }

      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Daemon second = start(socket, dir.resolve("b"), out, err);
      try {
        second.run(Duration.ofMillis(200));
      } finally {
        second.close();
      }
      assertThat(err.toString(StandardCharsets.UTF_8)).contains("control API not available");
      ObjectMapper json = new ObjectMapper();
      List<JsonNode> degraded = new ArrayList<>();
      for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
        if (line.startsWith("{")) {
          JsonNode e = json.readTree(line);
          if ("VERIFICATION_DEGRADED".equals(e.path("type").asText())
              && e.path("reason").asText().startsWith("control API not available")) {
            degraded.add(e);
          }
        }
      }
      assertThat(degraded).hasSize(1);
      assertThat(CoreApis.probe(socket))
          .as("the first daemon's socket survives")
          .isEqualTo(CoreApis.DaemonStatus.RUNNING);
    } finally {
      first.close();
    }
    assertThat(Files.exists(socket)).as("removed on close").isFalse();
  }

  @Test
  void theWarmUpsMadeUpExecsReachNeitherTheProcessTableNorTheEventsNorTheMetrics()
      throws Exception {
    KernelTests.assumeKernel();
    Path socket = dir.resolve("run").resolve("api.sock");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Files.createDirectories(dir.resolve("w"));
    Daemon daemon =
        Daemon.start(
            new Daemon.Settings(
                Policy.defaults(),
                ReferenceStore.empty(),
                true,
                dir.resolve("w"),
                dir.resolve("w"),
                true,
                true, // the start-up scan: the warm-up's execs are made of what it found
                socket),
            ProbeSettings.forCurrentProcess(),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    Thread runner = new Thread(() -> daemon.run(Duration.ofSeconds(60)), "test-daemon-run");
    try {
      runner.start();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!err.toString(StandardCharsets.UTF_8).contains("pipeline warmed up (")
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(err.toString(StandardCharsets.UTF_8))
          .contains("pipeline warmed up (" + Policy.defaults().verification.warmUpExecs + " execs");
      try (ApiClient client = ApiClient.connect(socket)) {
        List<Integer> pids = new ArrayList<>();
        client.listRuntimeState().get("processes").forEach(p -> pids.add(p.get("pid").asInt()));
        assertThat(pids).isNotEmpty().allMatch(pid -> pid < PipelineWarmUp.FIRST_PID);
      }
      assertThat(daemon.metrics().execLatencyTimer().count())
          .as("exec verdicts of the live pipeline")
          .isLessThan(Policy.defaults().verification.warmUpExecs);
    } finally {
      daemon.stop();
      runner.join(10_000);
      daemon.close();
    }
    ObjectMapper json = new ObjectMapper();
    for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
      if (line.startsWith("{")) {
        assertThat(json.readTree(line).path("pid").asInt()).isLessThan(PipelineWarmUp.FIRST_PID);
      }
    }
  }

  private static Daemon start(
      Path socket, Path state, ByteArrayOutputStream out, ByteArrayOutputStream err)
      throws Exception {
    Files.createDirectories(state);
    return Daemon.start(
        new Daemon.Settings(
            Policy.defaults(), ReferenceStore.empty(), true, state, state, true, false, socket),
        ProbeSettings.forCurrentProcess(),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }
}
