package dev.veriruntime.sinks.metrics;

import dev.veriruntime.sinks.Sink;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.function.ToDoubleFunction;

/**
 * Exposes a {@link Sink}'s {@link dev.veriruntime.sinks.SinkStats} as meters, tagged {@code
 * sink=<name>}: counters {@code veriruntime.sink.accepted}, {@code .delivered}, {@code .dropped},
 * {@code .failed} and gauges {@code veriruntime.sink.pending}, {@code .capacity}. The meters read
 * the sink's counters when scraped; nothing is copied. Registering the same sink twice is harmless
 * (the registry returns the existing meters).
 */
public final class SinkMetrics {
  private SinkMetrics() {}

  public static void bind(Sink sink, MeterRegistry registry) {
    Tags tags = Tags.of("sink", sink.name());
    counter(
        registry,
        "veriruntime.sink.accepted",
        "events taken into the sink's buffer",
        sink,
        tags,
        s -> s.stats().accepted());
    counter(
        registry,
        "veriruntime.sink.delivered",
        "events the downstream confirmed",
        sink,
        tags,
        s -> s.stats().delivered());
    counter(
        registry,
        "veriruntime.sink.dropped",
        "events refused because the buffer was full or the sink closed",
        sink,
        tags,
        s -> s.stats().dropped());
    counter(
        registry,
        "veriruntime.sink.failed",
        "accepted events given up on after retries",
        sink,
        tags,
        s -> s.stats().failed());
    Gauge.builder("veriruntime.sink.pending", sink, s -> s.stats().pending())
        .description("events queued or in flight")
        .tags(tags)
        .register(registry);
    Gauge.builder("veriruntime.sink.capacity", sink, s -> s.stats().capacity())
        .description("bound on pending events")
        .tags(tags)
        .register(registry);
  }

  private static void counter(
      MeterRegistry registry,
      String name,
      String description,
      Sink sink,
      Tags tags,
      ToDoubleFunction<Sink> f) {
    FunctionCounter.builder(name, sink, f).description(description).tags(tags).register(registry);
  }
}
