package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Stage 5a, before aggregation: findings about running processes become incidents (see {@link
 * IncidentBook}): grouped per process and moment, reported once, then only as reminders with
 * back-off, and resolved when the process ends or the condition clears. Ticks run every {@code
 * tick} on the injected scheduler, whose clock is the book's time, so tests drive groups, reminders
 * and resolutions with virtual time. When the upstream completes, pending groups are reported
 * before completing; open incidents stay open (the agent stopping resolves nothing).
 */
public final class IncidentStage implements Function<Flux<SecurityEvent>, Flux<SecurityEvent>> {
  private final IncidentBook book;
  private final Duration tick;
  private final Scheduler scheduler;

  public IncidentStage(IncidentBook book, Duration tick, Scheduler scheduler) {
    if (tick.isNegative() || tick.isZero()) {
      throw new IllegalArgumentException("tick must be positive");
    }
    this.book = book;
    this.tick = tick;
    this.scheduler = scheduler;
  }

  @Override
  public Flux<SecurityEvent> apply(Flux<SecurityEvent> events) {
    return events.publish(
        shared ->
            Flux.merge(
                    shared.concatMapIterable(e -> book.offer(e, now())),
                    Flux.interval(tick, tick, scheduler)
                        .onBackpressureDrop()
                        .concatMapIterable(t -> book.tick(now()))
                        .takeUntilOther(shared.ignoreElements()))
                .concatWith(Flux.defer(() -> Flux.fromIterable(book.flushAll(now())))));
  }

  public IncidentBook book() {
    return book;
  }

  private Instant now() {
    return Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
  }
}
