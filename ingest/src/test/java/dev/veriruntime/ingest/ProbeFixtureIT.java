package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.ingest.testing.KernelTests;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/** Probe lifecycle and reader against the test fixture object (root + BPF). */
class ProbeFixtureIT {
  record Exec(long tgid, long magic, String comm, long kernelNanos, long receivedNanos) {}

  @BeforeEach
  void kernel() {
    KernelTests.assumeKernel();
  }

  static Exec decode(ByteBuffer record) {
    byte[] comm = new byte[16];
    record.get(24, comm);
    int end = 0;
    while (end < 16 && comm[end] != 0) {
      end++;
    }
    return new Exec(
        record.getInt(16),
        record.getLong(8),
        new String(comm, 0, end),
        record.getLong(0),
        System.nanoTime());
  }

  @Test
  void reportsTheRefusedOptionalProgramAndAttachesTheRequiredOne() throws Exception {
    ProbeSettings settings = ProbeSettings.forCurrentProcess().withRingBufferBytes(1 << 16);
    try (Probe probe = Probe.load(ProbeSpecTest.fixture(), settings)) {
      AttachReport report = probe.attachReport();
      assertThat(report.attached())
          .extracting(ProgramAttachment::program)
          .containsExactly("fixture_exec");
      assertThat(report.attached().get(0).kernelId()).isPositive();
      assertThat(report.attached().get(0).tag()).matches("[0-9a-f]{16}");
      // fentry is refused on this host class; where it loads, it attaches and this is vacuous.
      report
          .failed()
          .forEach(
              failed -> {
                assertThat(failed.program()).isEqualTo("fixture_optional_fentry");
                assertThat(failed.errno()).isPositive();
                assertThat(failed.error()).isNotBlank();
              });
      assertThat(report.describe()).contains("fixture_exec");
      assertThat(probe.lostRecords()).isZero();
    }
  }

  @Test
  void failsWhenARequiredProgramIsRefused() {
    ProbeSpec.Wiring wiring =
        new ProbeSpec.Wiring(
            "events", null, Set.of("fixture_exec", "fixture_optional_fentry"), null);
    ProbeSpec spec = ProbeSpec.parse("fixture", uncheckedFixtureBytes(), wiring);
    try (Probe probe =
        Probe.load(spec, ProbeSettings.forCurrentProcess().withRingBufferBytes(1 << 16))) {
      // fentry loads on this host: nothing to assert about refusal.
      assertThat(probe.attachReport().failed()).isEmpty();
    } catch (ProbeException e) {
      assertThat(e.getMessage()).contains("fixture_optional_fentry").doesNotContain("\n");
    }
  }

  @Test
  void streamsDecodedRecordsWithSettingsAppliedAndCompletesOnClose(@TempDir Path dir)
      throws Exception {
    // A uniquely named copy of true: its comm tells our exec apart from the rest of the machine.
    Path binary = dir.resolve("vrtfx" + ProcessHandle.current().pid());
    Files.copy(Path.of("/bin/true"), binary);
    Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwx------"));
    String comm = binary.getFileName().toString();
    ProbeSettings settings =
        new ProbeSettings(ProcessHandle.current().pid(), 1 << 16, Map.of("fixture_magic", 77L));
    long[] childPid = new long[1];
    AtomicReference<Exec> seen = new AtomicReference<>();
    long before = System.nanoTime();
    try (Probe probe = Probe.load(ProbeSpecTest.fixture(), settings)) {
      StepVerifier.create(
              RingBufferReader.flux(
                      probe,
                      ProbeFixtureIT::decode,
                      w -> new Exec(-1, w.total(), "lost", 0, 0),
                      Duration.ofSeconds(1))
                  .filter(e -> e.comm().equals(comm)))
          .then(
              () -> {
                try {
                  Process child = new ProcessBuilder(binary.toString()).start();
                  childPid[0] = child.pid();
                  child.waitFor();
                } catch (Exception e) {
                  throw new AssertionError(e);
                }
              })
          .assertNext(
              e -> {
                // The event can arrive before start() returns the pid: compare pids after verify().
                seen.set(e);
                assertThat(e.magic()).isEqualTo(77L);
                // bpf_ktime_get_ns and System.nanoTime are both CLOCK_MONOTONIC: directly
                // comparable.
                assertThat(e.kernelNanos()).isBetween(before, e.receivedNanos());
              })
          .then(probe::close)
          .expectComplete()
          .verify(Duration.ofSeconds(10));
      assertThat(seen.get().tgid()).isEqualTo(childPid[0]);
      assertThat(probe.isClosed()).isTrue();
      probe.close();
      assertThatThrownBy(probe::lostRecords).isInstanceOf(IllegalStateException.class);
    }
  }

  private static byte[] uncheckedFixtureBytes() {
    try {
      return ProbeSpecTest.fixtureBytes();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
