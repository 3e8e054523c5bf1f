package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.SinkStats;
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
   * Moves the sinks' own dropped and failed counts since the last call into the ledger. Called by
   * the drop reporter before it drains the ledger.
   */
  public synchronized void collectSinkDrops() {
    for (Route route : routes) {
      SinkStats s = route.sink().stats();
      recordDelta("sink." + s.sink() + ".dropped", s.dropped());
      recordDelta("sink." + s.sink() + ".failed", s.failed());
    }
  }

  private void recordDelta(String place, long total) {
    long previous = lastSinkLosses.getOrDefault(place, 0L);
    lastSinkLosses.put(place, total);
    ledger.add(place, total - previous);
  }

  public List<Sink> sinks() {
    return routes.stream().map(Route::sink).toList();
  }
}
