package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.EventKind;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.LostEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.testing.ExecDriver;
import dev.veriruntime.ingest.testing.KernelTests;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

/**
 * Exec storms through the product probe: every exec performed (counted by the driver, outside the
 * probe) is either seen as an ExecEvent or included in a LostEvent — never silently missing.
 */
class ExecStormIT {
  @TempDir static Path dir;
  static ExecDriver driver;

  @BeforeAll
  static void build() throws Exception {
    KernelTests.assumeKernel();
    driver = ExecDriver.build(dir);
  }

  /** Counts our child's ExecEvents and every lost exec; optionally starts without demand. */
  static final class Counter extends BaseSubscriber<RuntimeEvent> {
    final String comm;
    final boolean stalled;
    final AtomicLong seen = new AtomicLong();
    final AtomicLong lostExecs = new AtomicLong();
    final AtomicLong lostAll = new AtomicLong();

    Counter(String comm, boolean stalled) {
      this.comm = comm;
      this.stalled = stalled;
    }

    @Override
    protected void hookOnSubscribe(Subscription subscription) {
      if (!stalled) {
        requestUnbounded();
      }
    }

    @Override
    protected void hookOnNext(RuntimeEvent event) {
      if (event instanceof ExecEvent e && e.task().comm().equals(comm)) {
        seen.incrementAndGet();
      } else if (event instanceof LostEvent lost) {
        lostExecs.addAndGet(lost.lostByKind().getOrDefault(EventKind.EXEC, 0L));
        lostAll.addAndGet(lost.total());
      }
    }
  }

  @Test
  void tenSecondStormAtFullSpeedIsFullyAccountedFor() throws Exception {
    Counter counter = new Counter(driver.child.getFileName().toString(), false);
    ExecDriver.Run run;
    long start;
    long elapsed;
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess())) {
      EventSource.live(probe).subscribe(counter);
      start = System.nanoTime();
      run = driver.storm(10, 2);
      elapsed = System.nanoTime() - start;
    }
    assertThat(counter.isDisposed()).as("close completes the stream").isTrue();
    assertThat(run.failed()).isZero();
    assertThat(counter.seen.get()).isLessThanOrEqualTo(run.succeeded());
    assertThat(counter.seen.get() + counter.lostExecs.get())
        .isGreaterThanOrEqualTo(run.succeeded());
    if (counter.lostExecs.get() == 0) {
      assertThat(counter.seen.get()).isEqualTo(run.succeeded());
    }
    System.out.printf(
        "storm: %d execs in %.1f s (%.0f execs/s), seen %d, lost execs %d, lost records (all kinds, all processes) %d%n",
        run.succeeded(),
        elapsed / 1e9,
        run.succeeded() / (elapsed / 1e9),
        counter.seen.get(),
        counter.lostExecs.get(),
        counter.lostAll.get());
  }

  @Test
  void stalledConsumerOverflowsTheRingAndEveryMissingExecIsReportedLost() throws Exception {
    Counter counter = new Counter(driver.child.getFileName().toString(), true);
    ExecDriver.Run run;
    // 64 KiB holds ~70 exec records: 1,000 execs (plus their mappings and exits) overflow it.
    try (Probe probe =
        Probe.load(
            ProbeSpec.veriRuntime(),
            ProbeSettings.forCurrentProcess().withRingBufferBytes(1 << 16))) {
      EventSource.live(probe).subscribe(counter);
      run = driver.count(1000);
      counter.requestUnbounded();
    }
    assertThat(run.succeeded()).isEqualTo(1000);
    assertThat(counter.lostExecs.get()).isPositive();
    assertThat(counter.seen.get()).isLessThan(1000);
    assertThat(counter.seen.get() + counter.lostExecs.get()).isGreaterThanOrEqualTo(1000);
    System.out.printf(
        "stalled: 1000 execs, seen %d, lost execs %d (all kinds %d)%n",
        counter.seen.get(), counter.lostExecs.get(), counter.lostAll.get());
  }
}
