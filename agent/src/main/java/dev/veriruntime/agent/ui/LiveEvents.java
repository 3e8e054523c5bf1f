package dev.veriruntime.agent.ui;

import dev.veriruntime.sinks.SecurityEvent;
import reactor.core.publisher.Flux;

/**
 * Where the web view takes live events from: a hot stream of numbered events. {@link EventFanOut}
 * is the one in use (a sink behind the pipeline's rate limiter); another event hub (such as a
 * resumable gRPC stream's) can stand in for it without the server changing.
 */
@FunctionalInterface
public interface LiveEvents {

  /** One event with its sequence number (increasing, per source). */
  record Numbered(long seq, SecurityEvent event) {}

  /**
   * The events from now on, after the most recent ones the source still holds. Each subscriber has
   * its own bounded buffer: a subscriber that does not keep up loses its oldest events, never slows
   * the source or other subscribers.
   */
  Flux<Numbered> subscribe();
}
