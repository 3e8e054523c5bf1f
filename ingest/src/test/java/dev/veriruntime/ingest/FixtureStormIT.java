package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.testing.ExecDriver;
import dev.veriruntime.ingest.testing.KernelTests;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;

/**
 * Exec storm through the generic reader and the fixture object: every exec of our child is either
 * seen or counted as lost, also when the consumer stalls and the kernel ring overflows.
 */
class FixtureStormIT {
  @TempDir static Path dir;
  static ExecDriver driver;

  @BeforeAll
  static void build() throws Exception {
    KernelTests.assumeKernel();
    driver = ExecDriver.build(dir);
  }

  @Test
  void stalledConsumerTurnsOverflowIntoCountedLoss() throws Exception {
    String comm = driver.child.getFileName().toString();
    AtomicLong ours = new AtomicLong();
    AtomicLong lost = new AtomicLong();
    // 16 KiB ring: ~340 records of 48 bytes; the storm overflows it while nothing is requested.
    ProbeSettings settings = ProbeSettings.forCurrentProcess().withRingBufferBytes(1 << 14);
    ExecDriver.Run run;
    try (Probe probe = Probe.load(ProbeSpecTest.fixture(), settings)) {
      BaseSubscriber<ProbeFixtureIT.Exec> subscriber =
          new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(org.reactivestreams.Subscription subscription) {
              // no demand yet: the reader must leave records in the kernel ring
            }

            @Override
            protected void hookOnNext(ProbeFixtureIT.Exec e) {
              if (e.tgid() == -1) {
                lost.addAndGet(e.magic());
              } else if (e.comm().equals(comm)) {
                ours.incrementAndGet();
              }
            }
          };
      RingBufferReader.flux(
              probe,
              ProbeFixtureIT::decode,
              w -> new ProbeFixtureIT.Exec(-1, w.total(), "lost", 0, 0),
              Duration.ofMillis(200))
          .subscribe(subscriber);
      run = driver.count(2000);
      subscriber.requestUnbounded();
      probe.close(); // drains, final loss report, completes
      Disposable d = subscriber;
      assertThat(d.isDisposed()).isTrue();
    }
    assertThat(run.succeeded()).isEqualTo(2000);
    assertThat(lost.get()).isPositive();
    assertThat(ours.get()).isLessThan(run.succeeded());
    // Never silent: each of our execs was delivered or is inside the loss count (which may also
    // hold
    // other processes' execs, hence >=).
    assertThat(ours.get() + lost.get()).isGreaterThanOrEqualTo(run.succeeded());
    System.out.printf(
        "fixture stall: execs=%d seen=%d lost=%d%n", run.succeeded(), ours.get(), lost.get());
  }
}
