package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.ingest.testing.KernelTests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code veriruntime events --json} against the real probe: parseable lines, our exec among them.
 */
class EventsCommandIT {

  @Test
  void printsJsonLinesIncludingAnExecWeCaused(@TempDir Path dir) throws Exception {
    KernelTests.assumeKernel();
    Path binary = dir.resolve("vrtcli" + ProcessHandle.current().pid());
    Files.copy(Path.of("/bin/true"), binary);
    Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwx------"));
    AtomicBoolean running = new AtomicBoolean(true);
    // Keeps exec'ing until the command returns, so at least one exec falls inside its window.
    Thread execs =
        new Thread(
            () -> {
              while (running.get()) {
                try {
                  new ProcessBuilder(binary.toString()).start().waitFor();
                } catch (Exception e) {
                  return;
                }
              }
            });
    execs.setDaemon(true);
    execs.start();
    EventsCommandTest.Result result;
    try {
      result =
          EventsCommandTest.run(new EventsCommand(), "--duration", "3s", "--json", "--no-scan");
    } finally {
      running.set(false);
      execs.join();
    }
    assertThat(result.exitCode()).isEqualTo(ExitCodes.OK);
    assertThat(result.err())
        .contains("attached  vr_exec (tp_btf/sched_process_exec)")
        .containsPattern("\\d+ events, \\d+ lost");
    ObjectMapper mapper = new ObjectMapper();
    List<JsonNode> lines =
        result
            .out()
            .lines()
            .map(
                line -> {
                  try {
                    return mapper.readTree(line);
                  } catch (Exception e) {
                    throw new AssertionError("not JSON: " + line, e);
                  }
                })
            .toList();
    assertThat(lines).allSatisfy(node -> assertThat(node.path("type").asText()).isNotEmpty());
    assertThat(lines).noneMatch(node -> node.path("type").asText().equals("ScannedProcess"));
    assertThat(lines)
        .anySatisfy(
            node -> {
              assertThat(node.path("type").asText()).isEqualTo("ExecEvent");
              assertThat(node.path("file").path("path").asText()).isEqualTo(binary.toString());
              assertThat(node.path("file").path("identity").path("inode").asLong())
                  .isEqualTo(Files.getAttribute(binary, "unix:ino"));
            });
  }
}
