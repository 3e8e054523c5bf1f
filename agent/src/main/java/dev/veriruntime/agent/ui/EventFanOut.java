package dev.veriruntime.agent.ui;

import dev.veriruntime.sinks.BoundedSink;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.BufferOverflowStrategy;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * The web view's live events: a {@link dev.veriruntime.sinks.Sink} like any other (so events reach
 * it through the pipeline's per-sink rate limiter, and a full buffer is counted as dropped) that
 * fans each delivered event out to every open page.
 *
 * <p>Memory is bounded twice: by the sink's {@code capacity} between {@code emit} and delivery, and
 * per subscriber by {@code perSubscriber} events (a page that does not read loses its oldest
 * events; counted in {@link #slowSubscriberDrops()}). The last {@link #RECENT} events are kept so a
 * page opened now shows what just happened. Thread safe.
 *
 * <pre>{@code
 * EventFanOut ui = new EventFanOut(1024, 256, null);
 * sinks.add(ui);                                   // behind the pipeline's rate limiter
 * UiServer.start(api, ui, port, token);
 * }</pre>
 */
public final class EventFanOut extends BoundedSink implements LiveEvents {
  /** How many of the latest events a new subscriber sees first. */
  public static final int RECENT = 50;

  // A replay sink hands a new subscriber the recent events and then the live ones with no gap
  // between them; each subscriber's own bounded buffer sits behind it (see subscribe).
  private final Sinks.Many<Numbered> hub = Sinks.many().replay().limit(RECENT);
  private final AtomicLong seq = new AtomicLong();
  private final AtomicLong slowDrops = new AtomicLong();
  private final int perSubscriber;

  /**
   * @param capacity the sink's bound on events accepted and not yet fanned out
   * @param perSubscriber the bound on events buffered for one page
   * @param scheduler where fan-out runs; null for a thread of its own
   */
  public EventFanOut(int capacity, int perSubscriber, Scheduler scheduler) {
    super("ui", capacity, 64, scheduler, Duration.ofSeconds(1));
    if (perSubscriber < 1) {
      throw new IllegalArgumentException("perSubscriber must be >= 1");
    }
    this.perSubscriber = perSubscriber;
  }

  @Override
  protected Mono<Void> deliver(SecurityEvent event) {
    // Deliveries never run concurrently (BoundedSink), so emission is serialized as Sinks require.
    hub.tryEmitNext(new Numbered(seq.incrementAndGet(), event));
    return Mono.empty();
  }

  @Override
  public Flux<Numbered> subscribe() {
    return hub.asFlux()
        .onBackpressureBuffer(
            perSubscriber,
            dropped -> slowDrops.incrementAndGet(),
            BufferOverflowStrategy.DROP_OLDEST);
  }

  /** Events a slow page lost (its buffer was full). */
  public long slowSubscriberDrops() {
    return slowDrops.get();
  }

  @Override
  protected void closeResources() {
    hub.tryEmitComplete();
  }
}
