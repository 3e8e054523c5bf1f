package dev.veriruntime.ingest.testing;

import dev.veriruntime.ingest.KernelSupport;
import java.util.Optional;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The one switch for tests that need root and a BPF-capable kernel. Elsewhere they skip with the
 * reason printed; when {@code VERIRUNTIME_REQUIRE_KERNEL_TESTS=1} (set by {@code .ci/run}) the same
 * condition fails the test, so CI can never pass by skipping.
 */
public final class KernelTests {
  public static final String REQUIRE_ENV = "VERIRUNTIME_REQUIRE_KERNEL_TESTS";

  private KernelTests() {}

  /** Call first in every test (or {@code @BeforeAll}) that needs the kernel. */
  public static void assumeKernel() {
    Optional<String> reason = KernelSupport.unavailableReason();
    if (reason.isEmpty()) {
      return;
    }
    if ("1".equals(System.getenv(REQUIRE_ENV))) {
      Assertions.fail(
          "kernel test required (" + REQUIRE_ENV + "=1) but cannot run: " + reason.get());
    }
    System.out.println("SKIPPED (needs root and BPF): " + reason.get());
    Assumptions.abort(reason.get());
  }
}
