package dev.veriruntime.ingest.testing;

import dev.veriruntime.ingest.KernelSupport;
import dev.veriruntime.verifier.testing.Prerequisites;

/**
 * Tests that need root and a BPF-capable kernel call {@link #assumeKernel()} first; whether a
 * missing kernel skips or fails is decided by {@link Prerequisites}.
 */
public final class KernelTests {
  private KernelTests() {}

  /** Call first in every test (or {@code @BeforeAll}) that needs the kernel. */
  public static void assumeKernel() {
    Prerequisites.require("root and BPF", KernelSupport.unavailableReason());
  }
}
