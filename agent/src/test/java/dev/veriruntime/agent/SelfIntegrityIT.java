package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end, as root: a real agent whose own-file set includes a copy made for the test (the real
 * jar and JVM are never opened for writing); another process opening that file for writing is a
 * SELF_INTEGRITY_FAILURE naming the writer within 2 s. The row in docs/scenarios.md carries the
 * latency printed here.
 */
class SelfIntegrityIT {
  private static final Duration WITHIN = Duration.ofSeconds(2);

  @TempDir static Path work;

  private static Path ownFile;
  private static EventLines events;
  private static Daemon daemon;
  private static Thread runner;
  private static final CountDownLatch watching = new CountDownLatch(1);

  /** The agent's stderr, passed on to ours; opens {@link #watching} at its "watching" line. */
  private static final OutputStream stderr =
      new OutputStream() {
        private final StringBuilder line = new StringBuilder();

        @Override
        public synchronized void write(int b) {
          System.err.write(b);
          if (b == '\n') {
            if (line.toString().startsWith("veriruntime: watching (pid")) {
              watching.countDown();
            }
            line.setLength(0);
          } else {
            line.append((char) b);
          }
        }
      };

  @BeforeAll
  static void startAgent() throws Exception {
    KernelTests.assumeKernel();
    ownFile = work.resolve("veriruntime-copy.jar");
    Files.write(ownFile, new byte[] {'P', 'K', 3, 4});
    Policy policy = Policy.defaults();
    policy.sinks.console.rate = 10_000;
    policy.sinks.console.burst = 10_000;
    events = new EventLines();
    Path state = Files.createDirectories(work.resolve("state"));
    daemon =
        Daemon.start(
            new Daemon.Settings(policy, ReferenceStore.empty(), true, state, state, false, false),
            ProbeSettings.forCurrentProcess(),
            new PrintStream(events, true, StandardCharsets.UTF_8),
            new PrintStream(stderr, true, StandardCharsets.UTF_8),
            Daemon.StartupHook.NONE,
            List.of(ownFile));
    runner = new Thread(() -> daemon.run(null), "self-integrity-agent");
    runner.start();
    // Measured from a running pipeline, not from one still subscribing.
    assertThat(watching.await(30, TimeUnit.SECONDS)).as("agent watching").isTrue();
  }

  @AfterAll
  static void stopAgent() throws Exception {
    if (daemon != null) {
      daemon.stop();
      runner.join(Duration.ofSeconds(30).toMillis());
      daemon.close();
    }
  }

  @Test
  void ownFileOpenedForWritingIsSelfIntegrityFailureNamingTheWriterWithinTwoSeconds()
      throws Exception {
    String before = sha(ownFile);
    Instant opened = Instant.now();
    // Opened for appending, nothing written: the open is the signal.
    Process writer =
        new ProcessBuilder("/bin/sh", "-c", "exec 3>> " + ownFile)
            .redirectErrorStream(true)
            .start();
    assertThat(writer.waitFor(10, TimeUnit.SECONDS)).isTrue();
    JsonNode e =
        await(
            ev ->
                ev.path("type").asText().equals("SELF_INTEGRITY_FAILURE")
                    && ev.path("details").path("writerPid").asLong() == writer.pid());
    long latency = Duration.between(opened, Instant.parse(e.path("time").asText())).toMillis();
    System.out.printf(
        "latency from starting the writer of an own file -> SELF_INTEGRITY_FAILURE %d ms%n",
        latency);
    String shell = Path.of("/bin/sh").toRealPath().toString();
    assertThat(e.path("reason").asText())
        .isEqualTo(
            "agent file "
                + ownFile
                + " opened for writing by pid "
                + writer.pid()
                + " ("
                + shell
                + ")");
    assertThat(e.path("details").path("file").asText()).isEqualTo(ownFile.toString());
    assertThat(e.path("details").path("writerExe").asText()).isEqualTo(shell);
    assertThat(latency).isLessThanOrEqualTo(WITHIN.toMillis());
    assertThat(sha(ownFile)).as("the open wrote nothing").isEqualTo(before);
  }

  private static String sha(Path p) throws Exception {
    return dev.veriruntime.verifier.hash.Sha256.hex(p);
  }

  private static JsonNode await(Predicate<JsonNode> wanted) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonNode e : events.all()) {
        if (wanted.test(e)) {
          return e;
        }
      }
      Thread.sleep(20); // waiting on a real process and the real kernel, not a Reactor timer
    }
    return fail("no SELF_INTEGRITY_FAILURE naming the writer within 30 s; seen: " + events.all());
  }
}
