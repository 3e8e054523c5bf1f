package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * As root, with the real probe: start-up that fails at each step after the probe loads detaches it
 * and closes the rest (no thread, descriptor or BPF link left), and so does a daemon that started,
 * ran and was closed. The steps before the probe are {@link DaemonStartupTest}'s.
 */
class DaemonStartupIT {
  @TempDir Path dir;

  @BeforeEach
  void kernel() {
    KernelTests.assumeKernel();
  }

  static Stream<Daemon.Step> stepsAfterTheProbe() {
    return Arrays.stream(Daemon.Step.values()).filter(s -> s.compareTo(Daemon.Step.PROBE) > 0);
  }

  @ParameterizedTest
  @MethodSource("stepsAfterTheProbe")
  void startUpThatFailsAfterTheProbeLoadedDetachesItAndLeavesNothingOpen(Daemon.Step failing)
      throws Exception {
    failAt(failing, "warm-up");
    OpenResources before = OpenResources.now();
    AtomicInteger linksWhenItFailed = new AtomicInteger();

    Path socket = failAt(failing, "measured", linksWhenItFailed);

    // The probe was attached when the step failed, so there were links to leave behind.
    assertThat(linksWhenItFailed.get()).isGreaterThan(before.bpfLinks());
    assertThat(OpenResources.now().leftSince(before)).isEmpty();
    assertThat(socket).doesNotExist();
  }

  @Test
  void aDaemonThatRanAndClosedLeavesNothingOpen() throws Exception {
    runAndClose("warm-up");
    OpenResources before = OpenResources.now();

    Daemon daemon = runAndClose("measured");

    assertThat(daemon.openResources()).isEmpty();
    assertThat(OpenResources.now().leftSince(before)).isEmpty();
  }

  private Daemon runAndClose(String run) throws IOException {
    int linksBefore = OpenResources.countBpfLinks();
    Daemon daemon =
        Daemon.start(
            settings(Files.createDirectories(dir.resolve(run))),
            ProbeSettings.forCurrentProcess(),
            quiet(),
            quiet());
    try {
      assertThat(OpenResources.countBpfLinks()).isGreaterThan(linksBefore);
      daemon.run(Duration.ofSeconds(2));
    } finally {
      daemon.close();
    }
    return daemon;
  }

  private Path failAt(Daemon.Step failing, String run) throws IOException {
    return failAt(failing, run, new AtomicInteger());
  }

  /** Start-up failing at {@code failing}; returns the control API's socket. */
  private Path failAt(Daemon.Step failing, String run, AtomicInteger linksWhenItFailed)
      throws IOException {
    Daemon.Settings settings = settings(Files.createDirectories(dir.resolve(run)));
    IOException injected = new IOException("injected at " + failing);
    assertThatThrownBy(
            () ->
                Daemon.start(
                    settings,
                    ProbeSettings.forCurrentProcess(),
                    quiet(),
                    quiet(),
                    step -> {
                      if (step == failing) {
                        linksWhenItFailed.set(OpenResources.countBpfLinks());
                        throw injected;
                      }
                    }))
        .isSameAs(injected);
    return settings.apiSocket();
  }

  private static Daemon.Settings settings(Path state) throws IOException {
    return new Daemon.Settings(
        DaemonStartupTest.everything(state),
        ReferenceStore.empty(),
        true,
        state,
        state.resolve("journal"),
        true,
        false,
        state.resolve("api.sock"));
  }

  private static PrintStream quiet() {
    return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
  }
}
