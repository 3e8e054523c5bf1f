package dev.veriruntime.sinks.metrics;

import dev.veriruntime.sinks.BoundedSink;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelOption;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * Counts events into a Micrometer {@link PrometheusMeterRegistry} and serves it for Prometheus to
 * scrape at {@code http://<host>:<port>/metrics} (reactor-netty HTTP server; bind to 127.0.0.1
 * unless the scraper runs elsewhere). Meters, all tagged {@code type=<EventType>}:
 *
 * <ul>
 *   <li>{@code veriruntime.events} (counter, {@code veriruntime_events_total}): events emitted;
 *   <li>{@code veriruntime.event.occurrences} (counter): occurrences they aggregate (sum of {@code
 *       count});
 *   <li>{@code veriruntime.event.last.time} (gauge, epoch seconds): time of the last event.
 * </ul>
 *
 * The pipeline registers its own meters on {@link #registry()} (e.g. {@code
 * veriruntime.events.lost}) and binds every sink with {@link SinkMetrics#bind}; this sink binds
 * itself. Owns the server, stopped on {@link #close()}.
 */
public final class PrometheusSink extends BoundedSink {
  private final PrometheusMeterRegistry registry;
  private final DisposableServer server;
  private final Map<EventType, Counter> events = new EnumMap<>(EventType.class);
  private final Map<EventType, Counter> occurrences = new EnumMap<>(EventType.class);
  private final Map<EventType, AtomicLong> lastSeconds = new EnumMap<>(EventType.class);

  private PrometheusSink(
      PrometheusMeterRegistry registry, String host, int port, int capacity, Scheduler scheduler) {
    super("prometheus", capacity, 256, scheduler, Duration.ofSeconds(2));
    this.registry = registry;
    for (EventType t : EventType.values()) {
      events.put(
          t,
          Counter.builder("veriruntime.events")
              .description("events emitted")
              .tag("type", t.name())
              .register(registry));
      occurrences.put(
          t,
          Counter.builder("veriruntime.event.occurrences")
              .description("occurrences aggregated into emitted events")
              .tag("type", t.name())
              .register(registry));
      AtomicLong last = new AtomicLong();
      lastSeconds.put(t, last);
      Gauge.builder("veriruntime.event.last.time", last, AtomicLong::doubleValue)
          .description("epoch seconds of the last event of this type, 0 if none")
          .tag("type", t.name())
          .register(registry);
    }
    SinkMetrics.bind(this, registry);
    this.server =
        HttpServer.create()
            .host(host)
            .port(port)
            // A scrape every few seconds needs no pool: pooled, each event loop that answered one
            // kept a 4-MiB chunk of direct memory of its own (17 MiB of resident memory, measured).
            .childOption(ChannelOption.ALLOCATOR, UnpooledByteBufAllocator.DEFAULT)
            .route(
                routes ->
                    routes.get(
                        "/metrics",
                        (req, res) ->
                            res.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                                .sendString(Mono.fromCallable(registry::scrape))))
            .bindNow(Duration.ofSeconds(5));
  }

  /**
   * Starts the scrape endpoint.
   *
   * @param host address to bind, normally {@code 127.0.0.1}
   * @param port port, or 0 for an ephemeral one (see {@link #port()})
   * @param scheduler drain scheduler, or {@code null} for a dedicated thread
   * @throws RuntimeException from reactor-netty if the port cannot be bound
   */
  public static PrometheusSink start(String host, int port, int capacity, Scheduler scheduler) {
    return new PrometheusSink(
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), host, port, capacity, scheduler);
  }

  /** The registry served at /metrics; add pipeline meters here. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The bound port. */
  public int port() {
    return server.port();
  }

  @Override
  protected Mono<Void> deliver(SecurityEvent event) {
    return Mono.fromRunnable(
        () -> {
          events.get(event.type()).increment();
          occurrences.get(event.type()).increment(event.count());
          lastSeconds.get(event.type()).set(event.time().getEpochSecond());
        });
  }

  @Override
  protected void closeResources() {
    server.disposeNow(Duration.ofSeconds(2));
    registry.close();
  }
}
