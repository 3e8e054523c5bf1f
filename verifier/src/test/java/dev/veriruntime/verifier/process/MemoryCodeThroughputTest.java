package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.ScopeStatus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * MEMORY_CODE on a large process: this test's own JVM (libjvm.so alone is ~20 MB of mapped code).
 * Asserts that a real JVM's code equals its files, and prints the comparison rate for the report
 * (the number is informational: timings belong in benchmarks, not assertions).
 */
class MemoryCodeThroughputTest {

  @BeforeAll
  static void root() {
    RootTests.assumeRoot();
  }

  @Test
  void ownJvmCodeEqualsItsFilesAndTheRateIsReported() throws Exception {
    int pid = (int) ProcessHandle.current().pid();
    MemoryCodeComparator comparator = new MemoryCodeComparator();
    CodeScan warm = CodeScan.start(ProcFs.host(), pid, comparator, ProcMemReader::open);
    warm.advance(Long.MAX_VALUE);
    assertThat(warm.result().status()).as(warm.result().reason()).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(warm.bytesCompared()).isGreaterThan(10L << 20);

    long bytes = 0;
    long nanos = 0;
    for (int i = 0; i < 3; i++) {
      CodeScan scan = CodeScan.start(ProcFs.host(), pid, comparator, ProcMemReader::open);
      long t0 = System.nanoTime();
      scan.advance(Long.MAX_VALUE);
      nanos += System.nanoTime() - t0;
      bytes += scan.bytesCompared();
      assertThat(scan.result().status()).isEqualTo(ScopeStatus.VERIFIED);
    }
    System.out.printf(
        "MEMORY_CODE throughput: own JVM pid %d, %d mappings, %.1f MiB per scan, %.0f MiB/s (%.2f"
            + " GB/s)%n",
        pid,
        warm.mappings().size(),
        warm.bytesCompared() / 1048576.0,
        bytes / 1048576.0 / (nanos / 1e9),
        bytes / (nanos / 1e9) / 1e9);
  }
}
