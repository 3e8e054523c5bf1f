package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Turns losses into events. Every {@code period}, it collects the sinks' drop counts and drains the
 * {@link DropLedger}; if anything at all was lost in the window (threshold zero), it emits one
 * VERIFICATION_DEGRADED event whose details carry the exact counts per place and the window.
 */
public final class DropReporter {
  private final DropLedger ledger;
  private final SinkStage sinks;
  private final Duration period;
  private final Scheduler scheduler;
  private final String host;
  private Instant windowStart;

  public DropReporter(
      DropLedger ledger, SinkStage sinks, Duration period, Scheduler scheduler, String host) {
    this.ledger = ledger;
    this.sinks = sinks;
    this.period = period;
    this.scheduler = scheduler;
    this.host = host;
  }

  /** Reports on each tick; never completes by itself. */
  public Flux<SecurityEvent> reports() {
    return Flux.defer(
        () -> {
          windowStart = now();
          return Flux.interval(period, period, scheduler)
              .onBackpressureDrop()
              .concatMapIterable(tick -> report().stream().toList());
        });
  }

  /** Builds the report for the window that ends now, if anything was lost; resets the window. */
  public synchronized java.util.Optional<SecurityEvent> report() {
    if (sinks != null) {
      sinks.collectSinkDrops();
    }
    Map<String, Long> lost = ledger.drain();
    Instant end = now();
    Instant start = windowStart == null ? end : windowStart;
    windowStart = end;
    if (lost.isEmpty()) {
      return java.util.Optional.empty();
    }
    long total = lost.values().stream().mapToLong(Long::longValue).sum();
    Map<String, Object> window = new LinkedHashMap<>();
    window.put("from", start.toString());
    window.put("to", end.toString());
    return java.util.Optional.of(
        SecurityEvent.builder(EventType.VERIFICATION_DEGRADED, end)
            .host(host)
            .reason(
                total + " events not fully handled between " + start + " and " + end + ": " + lost)
            .firstSeen(start)
            .lastSeen(end)
            .detail(SinkStage.DROP_REPORT, true)
            .detail("window", window)
            .detail("lost", new LinkedHashMap<String, Object>(lost))
            .build());
  }

  private Instant now() {
    return Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
  }
}
