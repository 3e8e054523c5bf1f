package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Stage 5: first occurrence out at once, repeats folded into one count per report interval, which
 * grows from the window to a day while the finding keeps recurring (see {@link Aggregator}). Ticks,
 * one per window, run on the injected scheduler, so tests drive them with virtual time. When the
 * upstream completes, pending counts are flushed before completing.
 */
public final class AggregateStage implements Function<Flux<SecurityEvent>, Flux<SecurityEvent>> {
  private final Aggregator aggregator;
  private final Duration window;
  private final Scheduler scheduler;

  public AggregateStage(Duration window, int maxKeys, Scheduler scheduler) {
    this.aggregator = new Aggregator(window, maxKeys);
    this.window = window;
    this.scheduler = scheduler;
  }

  @Override
  public Flux<SecurityEvent> apply(Flux<SecurityEvent> events) {
    return events.publish(
        shared ->
            Flux.merge(
                    shared.concatMapIterable(e -> aggregator.offer(e, now())),
                    Flux.interval(window, window, scheduler)
                        .onBackpressureDrop()
                        .concatMapIterable(tick -> aggregator.flushExpired(now()))
                        .takeUntilOther(shared.ignoreElements()))
                .concatWith(Flux.defer(() -> Flux.fromIterable(aggregator.flushAll(now())))));
  }

  private Instant now() {
    return Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
  }
}
