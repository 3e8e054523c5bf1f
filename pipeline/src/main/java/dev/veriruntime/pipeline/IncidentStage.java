package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * Stage 5a, before aggregation: findings about running processes become incidents (see {@link
 * IncidentBook}): grouped per process and moment, reported once, then only as reminders with
 * back-off, and resolved when the process ends or the condition clears. The book is ticked on the
 * injected scheduler, whose clock is the book's time (tests drive groups, reminders and resolutions
 * with virtual time), when it has something due ({@link IncidentBook#nextDue}), at most once per
 * {@code tick} and at least once per {@link #MAX_WAIT}: a host with nothing to report costs about
 * one timer wake-up a second instead of one per {@code tick} (20 a second, each one paid by a
 * virtualised host in the hypervisor too), and an exec storm's counted repeats one a group window.
 * When upstream completes, pending groups are reported before completing; open incidents stay open
 * (the agent stopping resolves nothing).
 */
public final class IncidentStage implements Function<Flux<SecurityEvent>, Flux<SecurityEvent>> {
  /** The longest the book goes without a tick, even when it says nothing is due. */
  static final Duration MAX_WAIT = Duration.ofSeconds(1);

  private final IncidentBook book;
  private final long tickMillis;
  private final Scheduler scheduler;

  /**
   * @param tick the shortest time between two ticks: what is due waits at most this long for one
   */
  public IncidentStage(IncidentBook book, Duration tick, Scheduler scheduler) {
    if (tick.isNegative() || tick.isZero()) {
      throw new IllegalArgumentException("tick must be positive");
    }
    this.book = book;
    this.tickMillis = Math.max(1, tick.toMillis());
    this.scheduler = scheduler;
  }

  @Override
  public Flux<SecurityEvent> apply(Flux<SecurityEvent> events) {
    return events.publish(
        shared ->
            Flux.merge(
                    shared.concatMapIterable(e -> book.offer(e, now())),
                    Flux.defer(() -> new Ticks().flux()).takeUntilOther(shared.ignoreElements()))
                .concatWith(Flux.defer(() -> Flux.fromIterable(book.flushAll(now())))));
  }

  public IncidentBook book() {
    return book;
  }

  private Instant now() {
    return Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
  }

  /**
   * One subscription's ticks: each runs the book's tick on the scheduler and schedules the next for
   * the book's next due time; the book's {@link IncidentBook#onSooner} pulls it earlier. The book
   * is never called with this object's lock held (the book calls {@link #dueBy} with its own).
   */
  private final class Ticks {
    private final Sinks.Many<List<SecurityEvent>> out =
        Sinks.many().unicast().onBackpressureBuffer();
    private final Consumer<Instant> sooner = this::dueBy;
    // A tick pulled earlier leaves the later one scheduled: it finds another generation and does
    // nothing (cancelling it could interrupt the timer thread in the middle of a tick).
    private long generation;
    private long nextAt = Long.MAX_VALUE;
    private long lastTick = Long.MIN_VALUE / 2;
    private boolean stopped;

    Flux<SecurityEvent> flux() {
      book.onSooner(sooner);
      dueBy(book.nextDue());
      return out.asFlux().doFinally(s -> stop()).concatMapIterable(l -> l);
    }

    /**
     * Ticks by {@code due} (null: nothing due; {@link Instant#MIN}: now), unless one comes sooner.
     */
    private synchronized void dueBy(Instant due) {
      if (stopped) {
        return;
      }
      long now = scheduler.now(TimeUnit.MILLISECONDS);
      long at = now + MAX_WAIT.toMillis();
      if (due != null && due.isBefore(Instant.ofEpochMilli(at))) {
        // Rounded up: the book compares with the tick's time in milliseconds.
        at =
            due.isBefore(Instant.ofEpochMilli(now))
                ? now
                : due.toEpochMilli() + (due.getNano() % 1_000_000 == 0 ? 0 : 1);
      }
      // Never at once (a virtual-time scheduler would run it inside the caller, which may hold the
      // book), and not sooner than a tick after the last one.
      at = Math.max(at, Math.max(now + 1, lastTick + tickMillis));
      if (at >= nextAt) {
        return;
      }
      nextAt = at;
      long mine = ++generation;
      try {
        scheduler.schedule(() -> tick(mine), at - now, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException shutDown) {
        stopped = true; // the scheduler was disposed: the agent is stopping
      }
    }

    private void tick(long scheduledAs) {
      synchronized (this) {
        if (stopped || scheduledAs != generation) {
          return;
        }
        nextAt = Long.MAX_VALUE;
        lastTick = scheduler.now(TimeUnit.MILLISECONDS);
      }
      List<SecurityEvent> due = book.tick(now());
      if (!due.isEmpty()) {
        synchronized (out) {
          out.tryEmitNext(due);
        }
      }
      dueBy(book.nextDue());
    }

    private void stop() {
      book.removeSooner(sooner);
      synchronized (this) {
        stopped = true;
      }
    }
  }
}
