package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.ApiServer;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code verify-process} answers the same through a daemon's socket as in-process: a real {@link
 * ApiServer} on a socket in a temporary directory, serving the in-process verifiers.
 */
class DaemonApiCommandTest {
  @TempDir Path dir;

  private final String pid = Long.toString(ProcessHandle.current().pid());

  @Test
  void verifyProcessPrintsTheSameJsonThroughTheDaemonAsInProcess() throws Exception {
    Path absent = dir.resolve("absent.sock");
    CliRun local = CliRun.of("verify-process", pid, "--json", "--socket", absent.toString());
    assertThat(Files.exists(absent)).isFalse();

    Path socket = dir.resolve("api.sock");
    try (ApiServer server = daemon(socket)) {
      CliRun remote = CliRun.of("verify-process", pid, "--json", "--socket", socket.toString());
      assertThat(server.requests()).as("the daemon answered").isEqualTo(1);

      assertThat(remote.exitCode()).as(remote.err()).isEqualTo(local.exitCode());
      assertThat(local.exitCode())
          .isIn(
              ExitCodes.OK,
              ExitCodes.VERDICT_FAILED,
              ExitCodes.VERDICT_UNKNOWN,
              ExitCodes.VERDICT_DEGRADED);
      JsonNode l = local.json();
      JsonNode r = remote.json();
      assertThat(names(r))
          .isEqualTo(names(l))
          .contains("pid", "verdict", "path", "sha256", "coverage", "findings");
      assertThat(names(r.get("coverage"))).isEqualTo(names(l.get("coverage")));
      for (String key : List.of("pid", "verdict", "path", "sha256", "identity")) {
        assertThat(r.get(key)).as(key).isEqualTo(l.get(key));
      }
      assertThat(r.get("pid").asText()).isEqualTo(pid);
    }
  }

  @Test
  void humanOutputHasTheSameLinesThroughTheDaemon() throws Exception {
    Path socket = dir.resolve("api.sock");
    CliRun local =
        CliRun.of("verify-process", pid, "--socket", dir.resolve("absent.sock").toString());
    try (ApiServer server = daemon(socket)) {
      CliRun remote = CliRun.of("verify-process", pid, "--socket", socket.toString());
      assertThat(server.requests()).isEqualTo(1);
      assertThat(firstLine(remote.out())).isEqualTo(firstLine(local.out())).contains("pid " + pid);
      assertThat(remote.out().lines().filter(l -> l.startsWith("  DISK_HASH")).toList())
          .isEqualTo(local.out().lines().filter(l -> l.startsWith("  DISK_HASH")).toList())
          .hasSize(1);
    }
  }

  @Test
  void missingPidExitsTwentyTwoBothWays() throws Exception {
    String missing = "2147483000";
    CliRun.of("verify-process", missing, "--socket", dir.resolve("absent.sock").toString())
        .refused(ExitCodes.NO_SUCH_PROCESS);
    Path socket = dir.resolve("api.sock");
    try (ApiServer server = daemon(socket)) {
      CliRun remote =
          CliRun.of("verify-process", missing, "--socket", socket.toString())
              .refused(ExitCodes.NO_SUCH_PROCESS);
      assertThat(server.requests()).isEqualTo(1);
      assertThat(remote.err()).contains("no such process: " + missing);
    }
  }

  @Test
  void verifyBinaryAndStateGoToTheDaemonButOwnReferencesStayInProcess() throws Exception {
    String absent = dir.resolve("absent.sock").toString();
    CliRun local = CliRun.of("verify-binary", "/usr/bin/ls", "--json", "--socket", absent);
    Path socket = dir.resolve("api.sock");
    InProcessVerifiers verifiers = InProcessVerifiers.load(List.of(), List.of());
    RuntimeStateRegistry registry = new RuntimeStateRegistry();
    registry.record(verifiers.processes().verify((int) ProcessHandle.current().pid()));
    try (ApiServer server = ApiServer.builder(verifiers.api(registry)).socket(socket).bind()) {
      CliRun remote =
          CliRun.of("verify-binary", "/usr/bin/ls", "--json", "--socket", socket.toString());
      assertThat(server.requests()).isEqualTo(1);
      // /usr/bin/ls: the package database vouches for its bytes, nothing signs them: DEGRADED.
      assertThat(remote.exitCode())
          .isEqualTo(local.exitCode())
          .isEqualTo(ExitCodes.VERDICT_DEGRADED);
      assertThat(withoutTime(remote.json())).isEqualTo(withoutTime(local.json()));

      CliRun state = CliRun.of("state", "--json", "--socket", socket.toString());
      assertThat(server.requests()).isEqualTo(2);
      assertThat(state.exitCode()).as(state.err()).isZero();
      assertThat(names(state.json()))
          .as("the same shape as the in-process listing")
          .contains("processes", "kernelThreads", "exitedWhileListing", "untracked", "capacity");
      assertThat(state.json().get("processes")).hasSize(1);
      assertThat(state.json().get("processes").get(0).get("pid").asText()).isEqualTo(pid);

      CliRun missing =
          CliRun.of(
              "verify-binary", dir.resolve("missing").toString(), "--socket", socket.toString());
      missing.refused(ExitCodes.INPUT_UNREADABLE);
      assertThat(server.requests()).isEqualTo(3);

      Path otherRefs = dir.resolve("refs.json");
      Files.writeString(
          otherRefs,
          "{\"_type\": \"https://in-toto.io/Statement/v1\", \"subject\": [{\"name\": \"/opt/other\", \"digest\": {\"sha256\": \""
              + "0".repeat(64)
              + "\"}}], \"predicateType\": \"x\", \"predicate\": {}}");
      CliRun own =
          CliRun.of(
              "verify-binary",
              "/usr/bin/ls",
              "--refs",
              otherRefs.toString(),
              "--socket",
              socket.toString());
      assertThat(server.requests()).as("own references: not the daemon's").isEqualTo(3);
      assertThat(own.out()).as(own.err()).startsWith("DEGRADED  /usr/bin/ls");
    }
  }

  private static JsonNode withoutTime(JsonNode verdict) {
    ObjectNode copy = verdict.deepCopy();
    copy.remove("checkedAt");
    return copy;
  }

  private static ApiServer daemon(Path socket) throws Exception {
    return ApiServer.builder(
            InProcessVerifiers.load(List.of(), List.of()).api(new RuntimeStateRegistry()))
        .socket(socket)
        .bind();
  }

  private static List<String> names(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static String firstLine(String s) {
    return s.lines().findFirst().orElse("");
  }
}
