package dev.veriruntime.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.ApiException.Code;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.process.ExecutableVerifier;
import dev.veriruntime.verifier.process.ProcessPolicy;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real verifiers behind the socket: the same verdict JSON in-process and remote. */
class VerifierCoreApiTest {
  @TempDir Path dir;

  // A fixed clock: checkedAt is then the same in both forms and the JSON can be compared whole.
  private final Clock clock = Clock.fixed(Instant.parse("2026-11-23T08:00:00Z"), ZoneOffset.UTC);
  private final RuntimeStateRegistry state = new RuntimeStateRegistry();
  private ProcessVerifier processes;
  private LocalCoreApi local;
  private Process sleeper;

  @BeforeEach
  void setUp() throws Exception {
    BinaryVerifier binaries =
        new BinaryVerifier(ReferenceStore.empty(), clock, BinaryVerifier.Options.defaults());
    processes =
        new ProcessVerifier(ExecutableVerifier.of(binaries), ProcessPolicy.defaults(), clock);
    local =
        VerifierCoreApi.create(
            processes,
            binaries,
            VerifierCoreApi.StateSource.of(state),
            ref -> ref.equals("1") ? Optional.of(Map.of("seq", 1)) : Optional.empty(),
            () -> Map.of("status", "ok"));
    sleeper = new ProcessBuilder("sleep", "60").start();
  }

  @AfterEach
  void tearDown() throws Exception {
    sleeper.destroyForcibly().waitFor();
  }

  @Test
  void realVerdictsPrintTheSameOverTheSocket() throws Exception {
    int pid = (int) sleeper.pid();
    ProcessVerification recorded = processes.verify(pid);
    state.record(recorded);
    String identity =
        recorded.executable().identity().dev() + ":" + recorded.executable().identity().inode();

    Path socket = dir.resolve("api.sock");
    try (ApiServer server = ApiServer.builder(local).socket(socket).bind();
        ApiClient client = ApiClient.connect(socket, Duration.ofSeconds(20))) {
      JsonNode process = client.verifyProcess(pid);
      assertThat(process).isEqualTo(local.verifyProcess(pid));
      assertThat(process.get("pid").asInt()).isEqualTo(pid);
      assertThat(process.get("verdict").asText()).isEqualTo(recorded.verdict().name());
      assertThat(process.get("coverage").has("DISK_HASH")).isTrue();

      JsonNode binary = client.verifyBinary("/usr/bin/sleep");
      assertThat(binary).isEqualTo(local.verifyBinary("/usr/bin/sleep"));
      assertThat(binary.get("sha256").asText()).isEqualTo(recorded.executable().sha256());
      assertThat(binary.get("verdict").asText())
          .as("no references were given")
          .isEqualTo("UNKNOWN");

      JsonNode byIdentity = client.verifyBinary(identity);
      assertThat(byIdentity).isEqualTo(local.verifyBinary(identity));
      assertThat(byIdentity.get("sha256").asText()).isEqualTo(recorded.executable().sha256());

      JsonNode listed = client.listRuntimeState();
      assertThat(listed).isEqualTo(local.listRuntimeState());
      assertThat(listed.get("processes").get(0).get("pid").asInt()).isEqualTo(pid);
      assertThat(listed.get("processes").get(0).get("reattested").asBoolean()).isTrue();
      assertThat(listed.get("kernelThreads").asInt()).isZero();

      assertThat(client.getEvidence("1")).isEqualTo(local.getEvidence("1"));
    }
  }

  @Test
  void verifierFailuresMapToCodes() throws Exception {
    Process done = new ProcessBuilder("true").start();
    done.waitFor();
    assertCode(() -> local.verifyProcess((int) done.pid()), Code.NOT_FOUND);
    assertCode(() -> local.verifyProcess(2), Code.BAD_REQUEST); // kthreadd
    assertCode(() -> local.verifyBinary("/nonexistent/binary"), Code.NOT_FOUND);
    assertCode(() -> local.verifyBinary("/usr"), Code.BAD_REQUEST);
    assertCode(() -> local.verifyBinary("/dev/zero"), Code.BAD_REQUEST);
    assertCode(() -> local.verifyBinary("1:1"), Code.NOT_FOUND);
    assertCode(() -> local.getEvidence("2"), Code.NOT_FOUND);
  }

  @FunctionalInterface
  interface Call {
    void run() throws Exception;
  }

  private static void assertCode(Call call, Code code) {
    try {
      call.run();
    } catch (ApiException e) {
      assertThat(e.code()).as(e.getMessage()).isEqualTo(code);
      return;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected " + code + ", the call succeeded");
  }

  @Test
  void stateListsEachProcesssOpenIncidentsAndAProcessKnownOnlyByItsIncident() {
    var listing = ApiJson.mapper().createObjectNode();
    listing.putArray("processes").addObject().put("pid", 10).put("verdict", "VERIFIED");
    var onTen =
        ApiJson.mapper()
            .createObjectNode()
            .put("id", "i-1")
            .put("pid", 10)
            .put("type", "RUNTIME_DRIFT")
            .put("exe", "/opt/a")
            .put("sha256", "aa")
            .put("opened", "2026-11-23T08:00:00Z");
    var onEleven =
        ApiJson.mapper()
            .createObjectNode()
            .put("id", "i-2")
            .put("pid", 11)
            .put("type", "UNKNOWN_EXECUTION")
            .put("exe", "/tmp/x")
            .put("sha256", "bb")
            .put("opened", "2026-11-23T08:00:01Z");

    JsonNode state =
        VerifierCoreApi.withIncidents(listing, java.util.List.of(onTen, onEleven))
            .path("processes");

    assertThat(state).hasSize(2);
    assertThat(state.get(0).path("incidents").get(0).path("id").asText()).isEqualTo("i-1");
    JsonNode eleven = state.get(1);
    assertThat(eleven.path("pid").asInt()).isEqualTo(11);
    assertThat(eleven.path("verdict").asText()).isEqualTo("UNKNOWN");
    assertThat(eleven.path("path").asText()).isEqualTo("/tmp/x");
    assertThat(eleven.path("reattested").asBoolean(true)).isFalse();
    assertThat(eleven.path("tracked").asBoolean(true)).isFalse();
    assertThat(eleven.path("incidents").get(0).path("id").asText()).isEqualTo("i-2");
  }
}
