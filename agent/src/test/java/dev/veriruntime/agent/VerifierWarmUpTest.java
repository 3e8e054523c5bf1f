package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifierWarmUpTest {
  private static final Path LAUNCHER = Path.of("/proc/self/exe");

  private final BinaryVerifier verifier =
      new BinaryVerifier(
          ReferenceStore.empty(), Clock.systemUTC(), BinaryVerifier.Options.defaults());
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

  @Test
  void runsTheVerifierAsOftenAsAskedAndSaysSoInOneLine() throws Exception {
    VerifierWarmUp w = VerifierWarmUp.start(verifier, LAUNCHER, 300, err);
    w.join();

    assertThat(w.done()).isEqualTo(300);
    assertThat(errBytes.toString(StandardCharsets.UTF_8))
        .startsWith("veriruntime: verifier warmed up (300 runs over /proc/self/exe in ")
        .hasLineCount(1);
  }

  @Test
  void closingStopsItAfterTheRunInProgressWithoutALine() throws Exception {
    VerifierWarmUp w = VerifierWarmUp.start(verifier, LAUNCHER, Integer.MAX_VALUE, err);
    WarmUps.closeAfterFirstStep(w);

    assertThat(w.done()).isPositive().isLessThan(Integer.MAX_VALUE);
    assertThat(errBytes.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void aFileItCannotReadEndsItWithOneLineNamingTheFile(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("gone");
    VerifierWarmUp w = VerifierWarmUp.start(verifier, missing, 10, err);
    w.join();

    assertThat(w.done()).isZero();
    assertThat(errBytes.toString(StandardCharsets.UTF_8))
        .startsWith("veriruntime: verifier warm-up stopped after 0 runs over " + missing + ": ")
        .hasLineCount(1);
  }
}
