package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Turns losses into events. Every {@code period}, it collects the sinks' drop counts and drains the
 * {@link DropLedger}; if anything at all was lost in the window (threshold zero), it emits one
 * VERIFICATION_DEGRADED event whose details carry the exact counts per place and the window. A sink
 * that fails everything it finishes (a full disk under the journal, a webhook that is down) is
 * reported once when that starts and once when it delivers again, with the count of what it could
 * not deliver meanwhile, rather than in every window (see {@link
 * SinkStage#collectSinkDrops(Instant)}).
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
              .concatMapIterable(tick -> report());
        });
  }

  /**
   * Builds the reports for the window that ends now and resets the window: one for what was lost in
   * it, if anything, and one for each sink that started failing or recovered in it.
   */
  public synchronized List<SecurityEvent> report() {
    Instant end = now();
    Instant start = windowStart == null ? end : windowStart;
    windowStart = end;
    List<SecurityEvent> out = new ArrayList<>();
    List<SinkStage.SinkCondition> changes =
        sinks == null ? List.of() : sinks.collectSinkDrops(start);
    Map<String, Long> lost = ledger.drain();
    if (!lost.isEmpty()) {
      long total = lost.values().stream().mapToLong(Long::longValue).sum();
      out.add(
          SecurityEvent.builder(EventType.VERIFICATION_DEGRADED, end)
              .host(host)
              .reason(
                  total
                      + " events not fully handled between "
                      + start
                      + " and "
                      + end
                      + ": "
                      + lost)
              .firstSeen(start)
              .lastSeen(end)
              .detail(SinkStage.DROP_REPORT, true)
              .detail("window", window(start, end))
              .detail("lost", new LinkedHashMap<String, Object>(lost))
              .build());
    }
    changes.forEach(c -> out.add(condition(c, end)));
    return out;
  }

  private SecurityEvent condition(SinkStage.SinkCondition c, Instant end) {
    String reason =
        c.failing()
            ? String.format(
                "sink %s is failing (%s): events are not delivered to it until it recovers; the"
                    + " other sinks still receive them; reported again when it recovers",
                c.sink(), c.failure())
            : String.format(
                "sink %s delivers again after failing for %.1f s (%s): %d events from %s to %s"
                    + " were not delivered to it",
                c.sink(),
                Duration.between(c.since(), end).toMillis() / 1000.0,
                c.failure(),
                c.undelivered(),
                c.since(),
                end);
    return SecurityEvent.builder(EventType.VERIFICATION_DEGRADED, end)
        .host(host)
        .reason(reason)
        .firstSeen(c.since())
        .lastSeen(end)
        .detail(SinkStage.DROP_REPORT, true)
        .detail("check", c.failing() ? "sink-failing" : "sink-recovered")
        .detail("sink", c.sink())
        .detail("failure", c.failure())
        .detail("window", window(c.since(), end))
        .detail("undelivered", c.undelivered())
        .build();
  }

  private static Map<String, Object> window(Instant from, Instant to) {
    Map<String, Object> window = new LinkedHashMap<>();
    window.put("from", from.toString());
    window.put("to", to.toString());
    return window;
  }

  private Instant now() {
    return Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
  }
}
