package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class GapDetectorTest {

  @Test
  void reportsAStopOnlyWhenTheMonotonicClockJumpedPastThePeriod() {
    VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    AtomicLong nanos = new AtomicLong();
    GapDetector detector =
        new GapDetector(Duration.ofSeconds(1), Duration.ofSeconds(1), vts, nanos::get, "h");

    StepVerifier.withVirtualTime(detector::gaps, () -> vts, Long.MAX_VALUE)
        .then(() -> nanos.addAndGet(1_000_000_000L))
        .thenAwait(Duration.ofSeconds(1))
        .expectNoEvent(Duration.ZERO)
        .then(() -> nanos.addAndGet(1_500_000_000L)) // a GC pause within tolerance
        .thenAwait(Duration.ofSeconds(1))
        .expectNoEvent(Duration.ZERO)
        .then(() -> nanos.addAndGet(6_000_000_000L)) // SIGSTOP for about 5 s
        .thenAwait(Duration.ofSeconds(1))
        .assertNext(
            e -> {
              assertThat(e.type()).isEqualTo(EventType.SELF_INTEGRITY_FAILURE);
              assertThat(e.details()).containsEntry("gapMillis", 6000L);
              assertThat(e.reason()).contains("6.0 s");
            })
        .thenCancel()
        .verify();
  }

  @Test
  void aFirstTickPutOffByUpToAPeriodIsNoGapButOneLaterIs() {
    AtomicLong nanos = new AtomicLong();
    VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    List<SecurityEvent> seen = new ArrayList<>();
    new GapDetector(Duration.ofSeconds(1), Duration.ofSeconds(1), vts, nanos::get, "h")
        .gaps()
        .subscribe(seen::add);
    // A timer on a grid ran the first tick 0.9 s after the period, plus 0.9 s of load
    nanos.addAndGet(2_800_000_000L);
    vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(seen).isEmpty();
    nanos.addAndGet(2_100_000_000L); // later ticks get no such allowance
    vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(seen)
        .singleElement()
        .satisfies(e -> assertThat(e.details()).containsEntry("gapMillis", 2100L));

    VirtualTimeScheduler again = VirtualTimeScheduler.create();
    List<SecurityEvent> first = new ArrayList<>();
    new GapDetector(Duration.ofSeconds(1), Duration.ofSeconds(1), again, nanos::get, "h")
        .gaps()
        .subscribe(first::add);
    nanos.addAndGet(3_100_000_000L); // the first tick, stopped past the allowance
    again.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(first)
        .singleElement()
        .satisfies(e -> assertThat(e.details()).containsEntry("gapMillis", 3100L));
  }
}
