package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Start-up that fails half way closes what it built, without a kernel: each step up to the probe
 * load is made to fail once, and afterwards no thread, descriptor or BPF link is left over. The
 * steps after the probe loads are {@link DaemonStartupIT}'s.
 */
class DaemonStartupTest {
  @TempDir Path dir;

  static Stream<Daemon.Step> stepsUpToTheProbe() {
    return Arrays.stream(Daemon.Step.values()).filter(s -> s.compareTo(Daemon.Step.PROBE) <= 0);
  }

  @ParameterizedTest
  @MethodSource("stepsUpToTheProbe")
  void startUpThatFailsAtAStepLeavesNothingOpen(Daemon.Step failing) throws Exception {
    // Once to load classes and start the JVM's shared pools: what a leak leaves, it leaves again.
    failAt(failing, "warm-up");
    OpenResources before = OpenResources.now();

    ByteArrayOutputStream err = failAt(failing, "measured");

    assertThat(OpenResources.now().leftSince(before)).isEmpty();
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("start-up failed at step " + failing + ": java.io.IOException: injected");
  }

  /** Every sink the policy knows and the package watcher, so each step has something to close. */
  static Policy everything(Path dir) throws IOException {
    Policy policy = Policy.defaults();
    policy.packageDatabaseDir = Files.createDirectories(dir.resolve("dpkg/info")).toString();
    try (ServerSocket free = new ServerSocket(0)) {
      policy.sinks.metricsPort = free.getLocalPort();
    }
    policy.sinks.webhook = "http://127.0.0.1:9/hook";
    policy.sinks.slack = "http://127.0.0.1:9/slack";
    policy.sinks.syslog = "udp://127.0.0.1:9";
    return policy;
  }

  private ByteArrayOutputStream failAt(Daemon.Step failing, String run) throws IOException {
    Path state = Files.createDirectories(dir.resolve(run));
    Daemon.Settings settings =
        new Daemon.Settings(
            everything(state),
            ReferenceStore.empty(),
            true,
            state,
            state.resolve("journal"),
            true,
            false,
            state.resolve("api.sock"));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    IOException injected = new IOException("injected at " + failing);
    assertThatThrownBy(
            () ->
                Daemon.start(
                    settings,
                    ProbeSettings.forCurrentProcess(),
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8),
                    step -> {
                      if (step == failing) {
                        throw injected;
                      }
                    }))
        .isSameAs(injected);
    return err;
  }
}
