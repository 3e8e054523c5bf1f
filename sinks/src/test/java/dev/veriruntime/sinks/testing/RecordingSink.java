package dev.veriruntime.sinks.testing;

import dev.veriruntime.sinks.BoundedSink;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * An in-memory sink for pipeline tests: keeps what it was given, in order, and can be told to fail.
 * Thread-safe.
 */
public final class RecordingSink extends BoundedSink {
  private final List<SecurityEvent> received = new ArrayList<>();
  private volatile boolean failing;

  public RecordingSink(String name, int capacity, Scheduler scheduler) {
    super(name, capacity, 16, scheduler, Duration.ofSeconds(5));
  }

  /** Every later delivery fails with an IOException. */
  public void failFromNowOn() {
    failing = true;
  }

  /** Later deliveries succeed again (the downstream is back). */
  public void deliverAgain() {
    failing = false;
  }

  /** A copy of the events delivered so far, in delivery order. */
  public synchronized List<SecurityEvent> received() {
    return new ArrayList<>(received);
  }

  @Override
  protected Mono<Void> deliver(SecurityEvent event) {
    return Mono.fromCallable(
            () -> {
              if (failing) {
                throw new IOException("downstream told to fail");
              }
              synchronized (this) {
                received.add(event);
              }
              return event;
            })
        .then();
  }
}
