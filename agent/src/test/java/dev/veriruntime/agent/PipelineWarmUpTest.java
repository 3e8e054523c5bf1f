package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.AnonymousExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.ScannedProcess;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.reference.ReferenceStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

class PipelineWarmUpTest {
  private static final Path LAUNCHER = Path.of("/proc/self/exe");

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final Scheduler lanes = Schedulers.newBoundedElastic(2, 64, "test-lane");
  private final Scheduler timer = Schedulers.newSingle("test-timer");
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

  @AfterEach
  void dispose() {
    lanes.dispose();
    timer.dispose();
  }

  private PipelineWarmUp warmUp(int execs) {
    BinaryVerifier verifier =
        new BinaryVerifier(
            ReferenceStore.empty(), Clock.systemUTC(), BinaryVerifier.Options.defaults());
    return new PipelineWarmUp(
        PipelineWarmUp.scratchPipeline(
            Policy.defaults(), verifier, lanes, lanes, timer, meters, Clock.systemUTC(), "test"),
        LAUNCHER,
        execs,
        err);
  }

  /** Events of {@code kind} that went into the scratch pipeline. */
  private double eventsIn(Class<?> kind) {
    return meters.get("veriruntime.events.in").tag("kind", kind.getSimpleName()).counter().count();
  }

  @Test
  void everyMadeUpExecGoesThroughTheStagesToAVerdictAndItSaysSoInOneLine() throws Exception {
    PipelineWarmUp w = warmUp(500);
    w.start();
    w.join();

    assertThat(w.done()).isEqualTo(500);
    assertThat(meters.get("veriruntime.exec.verdict.latency").timer().count()).isEqualTo(500);
    assertThat(eventsIn(ExecMappingEvent.class)).isEqualTo(500);
    // Each exit comes with the next exec, as the probe sends them; the last one on its own.
    assertThat(eventsIn(ExitEvent.class)).isEqualTo(500);
    // A JIT's anonymous code mapping in the rounds of execs 0, 16, ..., 496.
    assertThat(eventsIn(AnonymousExecEvent.class)).isEqualTo(32);
    assertThat(errBytes.toString(StandardCharsets.UTF_8))
        .startsWith("veriruntime: pipeline warmed up (500 execs of 1 executable in ")
        .hasLineCount(1);
  }

  @Test
  void itIsMadeOfTheExecutablesTheScanFoundAtMostSixtyFourOfThem() throws Exception {
    PipelineWarmUp w = warmUp(200);
    w.sample(scanned(1, file(Path.of("/usr/bin/true"))));
    w.sample(scanned(2, file(Path.of("/usr/bin/env"))));
    w.sample(scanned(3, file(Path.of("/usr/bin/true")))); // the same file again
    w.sample(new ScannedProcess(0, 4, 1, 0, 0, "kthreadd", Optional.empty()));
    assertThat(w.executables()).isEqualTo(2);

    w.start();
    w.join();

    assertThat(meters.get("veriruntime.exec.verdict.latency").timer().count()).isEqualTo(200);
    assertThat(errBytes.toString(StandardCharsets.UTF_8))
        .startsWith("veriruntime: pipeline warmed up (200 execs of 2 executables in ");

    PipelineWarmUp many = warmUp(1);
    for (int i = 0; i < 100; i++) {
      FileIdentity made = new FileIdentity(1, 1000 + i, 0, 4096);
      many.sample(
          scanned(i, new ExecutableFile(made, 1, 0755, 0xEF53, false, false, "/x/" + i, false, 0)));
    }
    assertThat(many.executables()).isEqualTo(PipelineWarmUp.FILES);
  }

  @Test
  void closingStopsItAfterTheExecInProgressWithoutALine() throws Exception {
    PipelineWarmUp w = warmUp(Integer.MAX_VALUE);
    w.start();
    WarmUps.closeAfterFirstStep(w);

    assertThat(w.done()).isPositive().isLessThan(Integer.MAX_VALUE);
    assertThat(errBytes.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  private static ScannedProcess scanned(int pid, ExecutableFile file) {
    return new ScannedProcess(0, pid, 1, 0, 0, "p" + pid, Optional.of(file));
  }

  /** {@code path} as the probe would report it when executed (tests of this package). */
  static ExecutableFile file(Path path) throws IOException {
    Path real = path.toRealPath();
    return new ExecutableFile(
        BinaryVerifier.identity(real), 1, 0755, 0xEF53, false, false, real.toString(), false, 0);
  }
}
