package dev.veriruntime.agent;

import dev.veriruntime.pipeline.ExecutableVerification;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Verifies one small executable (the JVM's own launcher) a few thousand times when the agent
 * starts, opening it each time as a cache miss opens the file it verifies, on a thread of its own
 * at the lowest priority, and throws the verdicts away. A new binary is rare on most hosts, so the
 * verifier's code would otherwise stay interpreted or in the JIT's profiling tier for hours, and a
 * just-written 1 MiB binary would take 1.4 times as long to verify at the median, twice as long at
 * p90, as it does once that code is compiled (benchmarks/README.md, "New binaries: the verifier
 * warm-up"). The verifier is pure: these runs touch no cache, no metric, no process table and no
 * sink. Their display path names no reference and no package file, so they take the path an unknown
 * binary takes.
 *
 * <p>Costs about 2 CPU seconds once (the runs and the compilations they cause); {@code
 * verification.warm-up-runs: 0} turns it off.
 */
final class VerifierWarmUp extends WarmUp {
  /** Where the runs say the file is: a path no reference and no package can name. */
  static final String DISPLAY_PATH = "(verifier warm-up)";

  private final BinaryVerifier verifier;
  private final Path file;
  private final int runs;
  private final PrintStream err;

  private VerifierWarmUp(BinaryVerifier verifier, Path file, int runs, PrintStream err) {
    super("veriruntime-warm-up");
    this.verifier = verifier;
    this.file = file;
    this.runs = runs;
    this.err = err;
  }

  /** Starts {@code runs} verifications of {@code file} in the background. */
  static VerifierWarmUp start(BinaryVerifier verifier, Path file, int runs, PrintStream err) {
    VerifierWarmUp w = new VerifierWarmUp(verifier, file, runs, err);
    w.start();
    return w;
  }

  @Override
  void work() {
    repeat(
        "verifier",
        runs,
        file.toString(),
        () -> {
          FileIdentity identity = BinaryVerifier.identity(file);
          try (FileChannel ch =
              ExecutableVerification.openIfSame(file, identity)) { // as a cache miss
            if (ch == null) {
              throw new IOException("changed or unreadable while it was opened");
            }
            verifier.verifyOpened(ch, identity, DISPLAY_PATH, identity);
          }
        },
        err);
  }
}
