package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Notices that the agent itself did not run: stopped with SIGSTOP, frozen, or starved of CPU. A
 * heartbeat ticks every {@code period} on the injected scheduler; each tick compares the monotonic
 * clock with the previous tick. CLOCK_MONOTONIC keeps counting while the process is stopped, so
 * after a resume the next tick sees the whole gap and reports it as SELF_INTEGRITY_FAILURE (a
 * stopped agent is blind; whoever stopped it may have acted meanwhile).
 */
public final class GapDetector {
  private final Duration period;
  private final Duration tolerance;
  private final Scheduler scheduler;
  private final LongSupplier monotonicNanos;
  private final String host;

  /**
   * @param tolerance extra delay beyond {@code period} that is not reported (GC pauses, load)
   * @param monotonicNanos {@code System::nanoTime} in production (CLOCK_MONOTONIC on Linux)
   */
  public GapDetector(
      Duration period,
      Duration tolerance,
      Scheduler scheduler,
      LongSupplier monotonicNanos,
      String host) {
    this.period = period;
    this.tolerance = tolerance;
    this.scheduler = scheduler;
    this.monotonicNanos = monotonicNanos;
    this.host = host;
  }

  public Flux<SecurityEvent> gaps() {
    return Flux.defer(
        () -> {
          long[] last = {monotonicNanos.getAsLong()};
          return Flux.interval(period, period, scheduler)
              .onBackpressureDrop()
              .concatMapIterable(
                  tick -> {
                    long now = monotonicNanos.getAsLong();
                    long elapsed = now - last[0];
                    last[0] = now;
                    // The first tick may come up to a period late on purpose: a timer that runs
                    // periodic tasks on one grid puts a first run off to the next grid point.
                    long expected = (tick == 0 ? 2 : 1) * period.toNanos();
                    long gap = elapsed - expected;
                    return gap > tolerance.toNanos() ? List.of(report(elapsed)) : List.of();
                  });
        });
  }

  private SecurityEvent report(long elapsedNanos) {
    Instant end = Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
    Instant start = end.minusNanos(elapsedNanos);
    double seconds = elapsedNanos / 1e9;
    return SecurityEvent.builder(EventType.SELF_INTEGRITY_FAILURE, end)
        .host(host)
        .reason(
            String.format(
                "agent did not run for %.1f s (stopped, frozen or starved); events in that window were delayed and may be lost",
                seconds))
        .firstSeen(start)
        .lastSeen(end)
        .detail("gapMillis", elapsedNanos / 1_000_000)
        .detail("check", "heartbeat")
        .build();
  }
}
