package dev.veriruntime.verifier.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The one place that decides whether a test whose prerequisites are missing (root, BPF, gcc) skips
 * or fails. Elsewhere it skips with the reason printed; when {@code
 * VERIRUNTIME_REQUIRE_KERNEL_TESTS=1} (set by {@code .ci/run}) it fails, so CI can never pass by
 * skipping. Every module's own check (ingest's {@code KernelTests}, the verifier's root check)
 * computes the reason and calls {@link #require}.
 */
public final class Prerequisites {
  public static final String REQUIRE_ENV = "VERIRUNTIME_REQUIRE_KERNEL_TESTS";

  private Prerequisites() {}

  /**
   * Returns when nothing is missing; otherwise aborts (skip) or fails the calling test.
   *
   * @param needs what the test needs, for the message ("root and BPF")
   * @param missing why it cannot run here, empty when it can
   */
  public static void require(String needs, Optional<String> missing) {
    if (missing.isEmpty()) {
      return;
    }
    if (required()) {
      Assertions.fail(
          "test needing "
              + needs
              + " required ("
              + REQUIRE_ENV
              + "=1) but cannot run: "
              + missing.get());
    }
    System.out.println("SKIPPED (needs " + needs + "): " + missing.get());
    Assumptions.abort(missing.get());
  }

  /** Whether skips are failures in this run. */
  public static boolean required() {
    return "1".equals(System.getenv(REQUIRE_ENV));
  }

  /** Why this process is not root (real uid 0), or empty when it is. */
  public static Optional<String> rootMissing() {
    try {
      String uid =
          Files.readString(Path.of("/proc/self/status"))
              .lines()
              .filter(l -> l.startsWith("Uid:"))
              .map(l -> l.split("\\s+")[1])
              .findFirst()
              .orElse("?");
      return uid.equals("0") ? Optional.empty() : Optional.of("not root (uid " + uid + ")");
    } catch (IOException e) {
      return Optional.of("cannot read /proc/self/status: " + e.getMessage());
    }
  }
}
