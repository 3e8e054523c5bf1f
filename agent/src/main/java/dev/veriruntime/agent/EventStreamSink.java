package dev.veriruntime.agent;

import dev.veriruntime.api.EventHub;
import dev.veriruntime.sinks.BoundedSink;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * The event stream's sink when the agent keeps no journal ({@code --no-journal}): events are
 * numbered from 1 at start, in the order this sink delivers them, and published to the {@link
 * EventHub}; nothing can be replayed. (With a journal, the journal sink publishes each event once
 * it is durable, with the journal's sequence number.) Bounded and counted as every {@link
 * BoundedSink}; publishing never blocks, so a slow stream client never slows this sink either.
 */
final class EventStreamSink extends BoundedSink {
  static final int CAPACITY = 4096;

  private final EventHub hub;
  // Drain thread only.
  private long seq;

  EventStreamSink(EventHub hub) {
    super("stream", CAPACITY, 256, null, Duration.ofSeconds(1));
    this.hub = hub;
  }

  @Override
  protected Mono<Void> deliver(SecurityEvent event) {
    return Mono.fromRunnable(
        () -> hub.publish(++seq, event.type().name(), EventJson.toJson(event)));
  }
}
