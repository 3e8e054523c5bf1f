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
class MemoryCodeThroughputIT {

  @BeforeAll
  static void root() {
    RootTests.assumeRoot();
  }

  @Test
  void fullVerificationOfOwnJvmFindsItsJitAndDlopenedLibrariesButNoModifiedCode() throws Exception {
    int pid = (int) ProcessHandle.current().pid();
    java.time.Clock clock = java.time.Clock.systemUTC();
    ProcessVerifier verifier =
        new ProcessVerifier(
            ExecutableVerifier.of(
                new dev.veriruntime.verifier.BinaryVerifier(
                    dev.veriruntime.verifier.reference.ReferenceStore.empty(),
                    clock,
                    dev.veriruntime.verifier.BinaryVerifier.Options.defaults())),
            ProcessPolicy.defaults(),
            clock);
    long t0 = System.nanoTime();
    ProcessVerification v = verifier.verify(pid);
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertThat(v.scope(dev.veriruntime.verifier.Scope.MEMORY_CODE).orElseThrow().status())
        .isEqualTo(ScopeStatus.VERIFIED);
    assertThat(v.findings())
        .extracting(f -> f.type())
        .contains(
            dev.veriruntime.verifier.FindingType.ANONYMOUS_EXECUTABLE_MEMORY,
            dev.veriruntime.verifier.FindingType.UNEXPECTED_LIBRARY)
        .doesNotContain(dev.veriruntime.verifier.FindingType.CODE_MODIFIED);
    assertThat(v.findings())
        .filteredOn(f -> f.type() == dev.veriruntime.verifier.FindingType.UNEXPECTED_LIBRARY)
        .extracting(f -> f.detail().get("library"))
        .anySatisfy(lib -> assertThat(lib).endsWith("/libjvm.so"));
    System.out.printf(
        "VerifyProcess of own JVM pid %d: %d ms (hash of every mapped file + %.1f MiB of code"
            + " compared)%n",
        pid, millis, v.codeBytesCompared() / 1048576.0);
  }

  @Test
  void ownJvmCodeEqualsItsFilesAndTheRateIsReported() throws Exception {
    int pid = (int) ProcessHandle.current().pid();
    MemoryCodeComparator comparator = new MemoryCodeComparator();
    CodeScan warm = CodeScan.start(ProcFs.host(), pid, comparator, ProcMemReader::open);
    warm.advance(Long.MAX_VALUE);
    assertThat(warm.result().status()).as(warm.result().reason()).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(warm.bytesCompared()).isGreaterThan(10L << 20);

    for (int chunk : new int[] {1 << 20, 256 << 10, 64 << 10}) {
      MemoryCodeComparator sized = new MemoryCodeComparator(chunk);
      long bytes = 0;
      long nanos = 0;
      for (int i = 0; i < 3; i++) {
        CodeScan scan = CodeScan.start(ProcFs.host(), pid, sized, ProcMemReader::open);
        long t0 = System.nanoTime();
        scan.advance(Long.MAX_VALUE);
        nanos += System.nanoTime() - t0;
        bytes += scan.bytesCompared();
        assertThat(scan.result().status()).isEqualTo(ScopeStatus.VERIFIED);
      }
      System.out.printf(
          "MEMORY_CODE throughput: own JVM pid %d, %d mappings, %.1f MiB per scan, chunk %d KiB:"
              + " %.0f MiB/s%n",
          pid,
          warm.mappings().size(),
          warm.bytesCompared() / 1048576.0,
          chunk >> 10,
          bytes / 1048576.0 / (nanos / 1e9));
    }
  }
}
