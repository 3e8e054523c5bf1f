package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.testing.KernelTests;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * As root, with the real probe: the short unique-binaries storm (benchmarks/unique-storm.sh runs
 * the long one). The agent is the real {@code watch}, started by bin/veriruntime with the JVM
 * settings users get; every exec is of a binary never seen before.
 */
class UniqueStormIT {
  @Test
  void everyExecOfANewBinaryIsAnsweredOrCountedWithBoundedLanesAndMemory() throws Exception {
    KernelTests.assumeKernel();
    UniqueStorm storm = new UniqueStorm();
    storm.execs = 2_000;
    storm.workers = 4;
    storm.root = Path.of("..").toAbsolutePath().normalize();

    UniqueStorm.Result r = storm.run();
    System.err.println("unique-storm IT: " + UniqueStorm.summary(r));

    assertThat(r.driverOk()).isEqualTo(2_000);
    assertThat(r.everyExecAnswered())
        .as("exec verdicts %d ≥ exec events read %d", r.execVerdicts(), r.execEventsRead())
        .isTrue();
    assertThat(r.unaccounted())
        .as("driver execs beyond what the agent read or counted as lost")
        .isLessThanOrEqualTo(0);
    // Policy defaults: two small-file lane threads and one large-file lane thread.
    assertThat(r.verifyThreadsMax()).isBetween(1, 3);
    assertThat(r.verdictsComputed()).as("the new binaries were verified").isGreaterThan(0);
    assertThat(r.peakRssKiB()).as("peak RSS (KiB)").isLessThan(512 * 1024);
  }
}
