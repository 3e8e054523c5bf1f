package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.api.ApiClient;
import dev.veriruntime.api.EventFeed;
import dev.veriruntime.api.GrpcClient;
import dev.veriruntime.api.GrpcServer;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * As root, with the real probe: the daemon's gRPC socket answers the Core API like its JSON socket,
 * and its event stream carries the daemon's own alert with the journal's sequence number.
 */
class GrpcStreamIT {
  @TempDir Path dir;

  @Test
  void theStreamCarriesTheDaemonsAlertWithItsJournalSeq() throws Exception {
    KernelTests.assumeKernel();
    Path socket = dir.resolve("run").resolve("api.sock");
    Path state = Files.createDirectories(dir.resolve("state"));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Daemon daemon =
        Daemon.start(
            new Daemon.Settings(
                Policy.defaults(), ReferenceStore.empty(), true, state, state, true, false, socket),
            ProbeSettings.forCurrentProcess(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    Thread runner = new Thread(() -> daemon.run(null), "grpc-it-daemon");
    runner.start();
    ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();
    try (GrpcClient grpc = GrpcClient.connect(GrpcServer.socketBeside(socket));
        ApiClient json = ApiClient.connect(socket);
        GrpcClient.Events events =
            grpc.streamEvents(OptionalLong.of(0), Set.of("UNKNOWN_EXECUTION"))) {
      assertThat(err.toString(StandardCharsets.UTF_8)).contains("gRPC API on");
      assertThat(grpc.health().get("probe")).isEqualTo(json.health().get("probe"));
      int pid = (int) ProcessHandle.current().pid();
      assertThat(grpc.verifyProcess(pid).get("pid").asInt()).isEqualTo(pid);

      // An unknown binary: a copy of true with one byte more, so no reference or package has it.
      Path unknown = dir.resolve("unknown-over-grpc");
      Files.copy(Path.of("/usr/bin/true"), unknown);
      Files.write(unknown, new byte[] {0}, StandardOpenOption.APPEND);
      Files.setPosixFilePermissions(unknown, PosixFilePermissions.fromString("rwx------"));
      // A stream that never brings the alert must not hang the build.
      watchdog.schedule(events::close, 60, TimeUnit.SECONDS);
      new ProcessBuilder(unknown.toString()).start().waitFor(10, TimeUnit.SECONDS);

      ObjectMapper mapper = new ObjectMapper();
      EventFeed.Event found = null;
      while (found == null) {
        EventFeed.Item item = events.next();
        if (item instanceof EventFeed.Event e && e.json().contains(unknown.toString())) {
          found = e;
        }
      }
      assertThat(found.type()).isEqualTo("UNKNOWN_EXECUTION");
      assertThat(found.seq()).isPositive();
      JsonNode event = mapper.readTree(found.json());
      // The seq names the journal record of this very event.
      JsonNode evidence = grpc.getEvidence(Long.toString(found.seq()));
      assertThat(evidence.toString()).contains(event.get("id").asText());
    } finally {
      watchdog.shutdownNow();
      daemon.stop();
      runner.join(Duration.ofSeconds(20).toMillis());
      daemon.close();
    }
    assertThat(GrpcServer.socketBeside(socket)).doesNotExist();
  }
}
