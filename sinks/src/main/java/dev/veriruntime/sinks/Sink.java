package dev.veriruntime.sinks;

import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * Where events go: console, evidence journal, webhook, syslog, Prometheus. One SPI, one contract
 * ({@code SinkContractTest} in this module's test-jar), many outputs.
 *
 * <h2>Backpressure</h2>
 *
 * A sink never blocks and never slows the pipeline. {@link #emit} is non-blocking: it puts the
 * event into a buffer bounded by {@link SinkStats#capacity()} and returns {@code true}, or, when
 * the buffer is full (a slow or dead downstream), refuses it, counts it in {@link
 * SinkStats#dropped()} and returns {@code false}. The pipeline's per-sink rate limiter sits in
 * front of {@code emit}; the pipeline reads {@link #stats()} and turns dropped and failed counts
 * into {@link EventType#VERIFICATION_DEGRADED} events, so a loss is never silent. Memory is bounded
 * by the capacity whatever the downstream does.
 *
 * <h2>Order and threads</h2>
 *
 * Events are delivered in {@code emit} order per sink. {@code emit}, {@code flush} and {@code
 * stats} may be called from any thread. Delivery happens on the sink's own thread (or the network
 * client's event loop), never on the caller's.
 *
 * <h2>Usage</h2>
 *
 * <pre>{@code
 * try (Sink console = ConsoleSink.jsonLines(System.out)) {
 *   if (!console.emit(event)) { ... counted as dropped, see console.stats() ... }
 *   console.flush().block(Duration.ofSeconds(5));
 * }
 * }</pre>
 */
public interface Sink extends AutoCloseable {

  /** A short stable name used in metrics and in VERIFICATION_DEGRADED details, e.g. "journal". */
  String name();

  /**
   * Offers one event without blocking.
   *
   * @return {@code true} if accepted (it will be delivered or counted as failed), {@code false} if
   *     dropped and counted because the buffer is full or the sink is closed
   * @throws NullPointerException if {@code event} is null
   */
  boolean emit(SecurityEvent event);

  /**
   * Completes when every event accepted before this call has been delivered or counted as failed.
   * Never errors because of delivery failures (those are counted); the caller bounds the wait with
   * {@code timeout} if the downstream may hang.
   */
  Mono<Void> flush();

  /** A snapshot of the counters; cheap, thread-safe. */
  SinkStats stats();

  /**
   * Stops accepting (later {@code emit} calls drop and count), flushes what is pending with the
   * sink's bounded close timeout, then releases resources. Idempotent; never throws.
   */
  @Override
  void close();

  /**
   * As {@link #close()}, but waits at most {@code wait} for what is pending ({@link Duration#ZERO}:
   * gives up on it at once), for a caller that already gave the sink its time, as the agent's stop
   * does for all its sinks at once.
   */
  void close(Duration wait);
}
