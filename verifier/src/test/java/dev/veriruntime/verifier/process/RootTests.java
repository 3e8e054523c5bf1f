package dev.veriruntime.verifier.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Skip-or-fail switch for tests that need root (to read other processes' memory and map_files) and
 * gcc. The verifier module must not depend on ingest, so this mirrors ingest's KernelTests: skip
 * with the reason printed, or fail when {@code VERIRUNTIME_REQUIRE_KERNEL_TESTS=1}.
 */
final class RootTests {
  static final String REQUIRE_ENV = "VERIRUNTIME_REQUIRE_KERNEL_TESTS";

  private RootTests() {}

  static void assumeRoot() {
    String reason = unavailableReason();
    if (reason == null) {
      return;
    }
    if ("1".equals(System.getenv(REQUIRE_ENV))) {
      Assertions.fail("root test required (" + REQUIRE_ENV + "=1) but cannot run: " + reason);
    }
    System.out.println("SKIPPED (needs root and gcc): " + reason);
    Assumptions.abort(reason);
  }

  private static String unavailableReason() {
    try {
      ProcStatus self = ProcStatus.parse(Files.readString(Path.of("/proc/self/status")));
      if (self.realUid() != 0) {
        return "not root (uid " + self.realUid() + ")";
      }
    } catch (IOException e) {
      return "cannot read /proc/self/status: " + e.getMessage();
    }
    if (TestPrograms.gcc() == null) {
      return "gcc not found on PATH";
    }
    return null;
  }
}
