package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.process.ExecutableVerifier;
import dev.veriruntime.verifier.process.ProcessPolicy;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ProcessWarmUpTest {
  private static final int SELF = (int) ProcessHandle.current().pid();

  private final AtomicInteger fileVerifications = new AtomicInteger();
  private final BinaryVerifier binaries =
      new BinaryVerifier(
          ReferenceStore.empty(), Clock.systemUTC(), BinaryVerifier.Options.defaults());
  private final ExecutableVerifier counted =
      (file, statPath, displayPath) -> {
        fileVerifications.incrementAndGet();
        return ExecutableVerifier.of(binaries).verify(file, statPath, displayPath);
      };
  private final ProcessVerifier verifier =
      new ProcessVerifier(counted, ProcessPolicy.defaults(), Clock.systemUTC());
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

  @Test
  void reChecksTheProcessAsOftenAsAskedAndSaysSoInOneLine() throws Exception {
    ProcessWarmUp w = ProcessWarmUp.start(verifier, SELF, 20, err);
    w.join();

    assertThat(w.done()).isEqualTo(20);
    assertThat(errBytes.toString(StandardCharsets.UTF_8))
        .startsWith("veriruntime: re-attestation warmed up (20 runs over process " + SELF + " in ")
        .hasLineCount(1);
    assertThat(fileVerifications).as("the executable and its libraries").hasPositiveValue();
  }

  @Test
  void itsFileVerificationsStayInTheLiveVerifiersCache() throws Exception {
    ProcessWarmUp.start(verifier, SELF, 1, err).join();
    int afterOneRun = fileVerifications.get();

    ProcessWarmUp.start(verifier, SELF, 10, err).join();

    assertThat(fileVerifications).as("no file verified twice").hasValue(afterOneRun);
  }

  @Test
  void closingStopsItAfterTheRunInProgressWithoutALine() throws Exception {
    ProcessWarmUp w = ProcessWarmUp.start(verifier, SELF, Integer.MAX_VALUE, err);
    WarmUps.closeAfterFirstStep(w);

    assertThat(w.done()).isPositive().isLessThan(Integer.MAX_VALUE);
    assertThat(errBytes.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void aProcessThatIsGoneEndsItWithOneLineNamingIt() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    int gone = (int) p.pid();

    ProcessWarmUp w = ProcessWarmUp.start(verifier, gone, 10, err);
    w.join();

    assertThat(w.done()).isZero();
    assertThat(errBytes.toString(StandardCharsets.UTF_8))
        .startsWith("veriruntime: re-attestation warm-up stopped after 0 runs over process " + gone)
        .hasLineCount(1);
  }
}
