package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.ingest.testing.KernelTests;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * As root: {@code veriruntime watch} in its own JVM, stopped with SIGSTOP for 5 s and resumed,
 * reports the gap as SELF_INTEGRITY_FAILURE; SIGTERM then ends it cleanly with exit code 0.
 */
class AgentGapIntegrationTest {
  @TempDir Path dir;

  @Test
  void agentStoppedForFiveSecondsReportsTheGapWhenResumed() throws Exception {
    KernelTests.assumeKernel();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process agent = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
            "dev.veriruntime.cli.VeriRuntimeCommand", "watch", "--json", "--no-scan", "--state-dir", dir.toString(),
            "--duration", "120s")
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    ObjectMapper json = new ObjectMapper();
    BufferedReader lines = new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<JsonNode> gap = CompletableFuture.supplyAsync(() -> {
      try {
        for (String line; (line = lines.readLine()) != null; ) {
          if (line.startsWith("{")) {
            JsonNode e = json.readTree(line);
            if ("SELF_INTEGRITY_FAILURE".equals(e.path("type").asText()) && e.path("details").has("gapMillis")) {
              return e;
            }
          }
        }
        return null;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    try {
      awaitWatching(dir, agent);
      signal("STOP", agent.pid());
      TimeUnit.SECONDS.sleep(5); // the agent is frozen: real time must pass
      signal("CONT", agent.pid());
      JsonNode event = gap.get(60, TimeUnit.SECONDS);
      assertThat(event).isNotNull();
      assertThat(event.path("details").path("gapMillis").asLong()).isBetween(4_500L, 30_000L);
      assertThat(event.path("reason").asText()).contains("agent did not run");
    } finally {
      agent.destroy(); // SIGTERM: detach and flush
      assertThat(agent.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(agent.exitValue()).as("128+SIGTERM after a clean shutdown hook").isIn(0, 143);
  }

  /** The agent writes its journal once the pipeline runs; give the JVM time to start on a busy machine. */
  private static void awaitWatching(Path dir, Process agent) throws Exception {
    for (int i = 0; i < 600 && agent.isAlive(); i++) {
      try (var files = java.nio.file.Files.list(dir)) {
        if (files.findAny().isPresent()) {
          TimeUnit.SECONDS.sleep(2);
          return;
        }
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    assertThat(agent.isAlive()).as("agent still running").isTrue();
  }

  private static void signal(String sig, long pid) throws Exception {
    assertThat(new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).start().waitFor()).isZero();
  }
}
