package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.ingest.testing.KernelTests;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * As root: {@code veriruntime watch} in its own JVM, stopped with SIGSTOP for 5 s and resumed,
 * reports the gap as SELF_INTEGRITY_FAILURE; SIGTERM then ends it cleanly with exit code 0.
 */
class AgentGapIT {
  @TempDir Path dir;

  @Test
  void agentStoppedForFiveSecondsReportsTheGapWhenResumed() throws Exception {
    KernelTests.assumeKernel();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process agent =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                "dev.veriruntime.cli.VeriRuntimeCommand",
                "watch",
                "--json",
                "--no-scan",
                "--state-dir",
                dir.toString(),
                // Not the host's /run/veriruntime: the agent is killed, which leaves its socket
                // behind.
                "--socket",
                dir.resolve("api.sock").toString(),
                "--duration",
                "120s")
            .start();
    CompletableFuture<Void> watching = new CompletableFuture<>();
    Thread errors =
        new Thread(
            () -> {
              try (BufferedReader err =
                  new BufferedReader(
                      new InputStreamReader(agent.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = err.readLine()) != null; ) {
                  System.err.println("[agent] " + line);
                  if (line.startsWith("veriruntime: watching")) {
                    watching.complete(null);
                  }
                }
              } catch (Exception e) {
                watching.completeExceptionally(e);
              }
            });
    errors.setDaemon(true);
    errors.start();
    ObjectMapper json = new ObjectMapper();
    BufferedReader lines =
        new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<JsonNode> gap =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                for (String line; (line = lines.readLine()) != null; ) {
                  if (line.startsWith("{")) {
                    JsonNode e = json.readTree(line);
                    if ("SELF_INTEGRITY_FAILURE".equals(e.path("type").asText())
                        && e.path("details").has("gapMillis")) {
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
      watching.get(120, TimeUnit.SECONDS);
      TimeUnit.SECONDS.sleep(3); // let the heartbeat take its first ticks
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

  private static void signal(String sig, long pid) throws Exception {
    assertThat(new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).start().waitFor())
        .isZero();
  }
}
