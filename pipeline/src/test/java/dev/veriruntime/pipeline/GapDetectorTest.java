package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventType;
import java.time.Duration;
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
}
