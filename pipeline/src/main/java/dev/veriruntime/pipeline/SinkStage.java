package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.SinkStats;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Stage 6: hands each event to every sink through that sink's token bucket. An event over a sink's
 * rate is not offered to it and is counted in the {@link DropLedger} as {@code
 * sink.NAME.rate_limited}; an event the sink refuses (its bounded buffer is full) is counted by the
 * sink itself and collected by {@link #collectSinkDrops()}. VERIFICATION_DEGRADED reports of drops
 * bypass the buckets: otherwise a flood could hide the report of its own losses. The stage passes
 * every event on unchanged, so callers can observe what was emitted.
 */
public final class SinkStage implements Function<Flux<SecurityEvent>, Flux<SecurityEvent>> {
  /** Detail key that marks an event as a drop report, exempt from rate limits. */
  public static final String DROP_REPORT = "dropReport";

  private final List<Route> routes;
  private final DropLedger ledger;
  private final Map<String, Long> lastSinkLosses = new HashMap<>();
  private final Map<String, Failing> failing = new HashMap<>();

  /** A sink and its rate. */
  public record Route(Sink sink, TokenBucket bucket) {}

  public SinkStage(List<Route> routes, DropLedger ledger) {
    this.routes = List.copyOf(routes);
    this.ledger = ledger;
  }

  public static Route route(Sink sink, double ratePerSecond, int burst, Scheduler clock) {
    return new Route(sink, new TokenBucket(ratePerSecond, burst, clock));
  }

  @Override
  public Flux<SecurityEvent> apply(Flux<SecurityEvent> events) {
    return events.doOnNext(this::deliver);
  }

  private void deliver(SecurityEvent event) {
    boolean exempt = event.details().containsKey(DROP_REPORT);
    for (Route route : routes) {
      if (exempt || route.bucket().tryAcquire()) {
        route.sink().emit(event);
      } else {
        ledger.increment("sink." + route.sink().name() + ".rate_limited");
      }
    }
  }

  /**
   * A sink that stopped delivering (a full or read-only disk under the journal, a webhook that is
   * down), or that delivers again.
   *
   * @param failing true when it starts failing, false when it recovers
   * @param failure the sink's last failure message
   * @param since when it was last known to deliver (the start of the window it failed in)
   * @param undelivered events that failed while the condition lasted (0 when it starts)
   */
  public record SinkCondition(
      String sink, boolean failing, String failure, Instant since, long undelivered) {}

  /** A sink's failing condition while it lasts. */
  private static final class Failing {
    final Instant since;
    final String failure;
    long undelivered;

    Failing(Instant since, String failure, long undelivered) {
      this.since = since;
      this.failure = failure;
      this.undelivered = undelivered;
    }
  }

  /**
   * Moves the sinks' own dropped and failed counts since the last call into the ledger. Called by
   * the drop reporter before it drains the ledger.
   */
  public void collectSinkDrops() {
    collectSinkDrops(Instant.EPOCH);
  }

  /**
   * As {@link #collectSinkDrops()}, and returns the sinks whose condition changed. A sink that
   * failed to deliver anything since the last call starts failing; from then on its failures are
   * kept out of the ledger's drains (the condition is reported once, not once per drop report) and
   * counted into the condition, which ends at the first call that finds it delivered again with no
   * new failure.
   *
   * @param windowStart the previous call's time: the last moment a newly failing sink was known to
   *     deliver
   */
  public synchronized List<SinkCondition> collectSinkDrops(Instant windowStart) {
    List<SinkCondition> changes = new ArrayList<>();
    for (Route route : routes) {
      SinkStats s = route.sink().stats();
      String name = s.sink();
      ledger.add("sink." + name + ".dropped", delta("sink." + name + ".dropped", s.dropped()));
      long failedNow = delta("sink." + name + ".failed", s.failed());
      long delivered = delta("sink." + name + ".delivered", s.delivered());
      Failing f = failing.get(name);
      if (f == null && failedNow > 0) {
        String why = s.lastFailure() == null ? "no reason given" : s.lastFailure();
        failing.put(name, new Failing(windowStart, why, failedNow));
        ledger.addReportedElsewhere("sink." + name + ".failed", failedNow);
        changes.add(new SinkCondition(name, true, why, windowStart, 0));
      } else if (f != null) {
        f.undelivered += failedNow;
        ledger.addReportedElsewhere("sink." + name + ".failed", failedNow);
        if (delivered > 0 && failedNow == 0) {
          failing.remove(name);
          changes.add(new SinkCondition(name, false, f.failure, f.since, f.undelivered));
        }
      }
    }
    return changes;
  }

  private long delta(String place, long total) {
    long previous = lastSinkLosses.getOrDefault(place, 0L);
    lastSinkLosses.put(place, total);
    return total - previous;
  }

  public List<Sink> sinks() {
    return routes.stream().map(Route::sink).toList();
  }
}
