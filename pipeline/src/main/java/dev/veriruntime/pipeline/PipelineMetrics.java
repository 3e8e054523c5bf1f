package dev.veriruntime.pipeline;

import dev.veriruntime.ingest.event.RuntimeEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline's meters, with lowercase dotted names (Prometheus shows them with underscores):
 *
 * <ul>
 *   <li>{@code veriruntime.events.in{kind}}: domain events read from the probe and the /proc scan;
 *   <li>{@code veriruntime.events.lost{kind}}: records the kernel could not store;
 *   <li>{@code veriruntime.events.dropped{place}}: events a stage or sink could not handle;
 *   <li>{@code veriruntime.verdicts{verdict}}: binary verdicts computed (cache misses);
 *   <li>{@code veriruntime.cache.lookups{result=hit|miss|inflight}}: identity cache;
 *   <li>{@code veriruntime.exec.verdict.latency}: kernel exec timestamp to verdict, as histogram
 *       buckets;
 *   <li>{@code veriruntime.bytes.hashed}: bytes read for hashing;
 *   <li>{@code veriruntime.events.emitted{type}}: security events handed to the sinks;
 *   <li>{@code veriruntime.package.database.reloads}: new package-database snapshots taken after
 *       the package manager changed it;
 *   <li>{@code veriruntime.package.database.files.changed}: file records those reloads added,
 *       removed or changed;
 *   <li>{@code veriruntime.lineage.decisions{outcome}}: build-lineage decisions inside a lineage
 *       root (trusted, changed_since_written, no_lineage);
 *   <li>{@code veriruntime.lineage.files}: final identities of files written by toolchain
 *       processes.
 * </ul>
 *
 * Thread-safe; meters are created once per tag value and cached.
 */
public final class PipelineMetrics {
  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> emitted = new ConcurrentHashMap<>();
  private final Timer execLatency;
  private final DistributionSummary bytesHashed;
  private final Counter packageReloads;
  private final Counter packageFilesChanged;
  // Per-event counters, resolved once (the name lookup allocated a key string per event).
  private final ClassValue<Counter> eventsIn =
      new ClassValue<>() {
        @Override
        protected Counter computeValue(Class<?> kind) {
          return counter("veriruntime.events.in", "kind", kind.getSimpleName());
        }
      };
  private volatile Counter cacheHits;

  public PipelineMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.execLatency =
        Timer.builder("veriruntime.exec.verdict.latency")
            .description("kernel exec timestamp to verdict")
            // Buckets only: PromQL's histogram_quantile and the benchmarks read percentiles from
            // them. Client-side percentiles (publishPercentiles) were never exported by the
            // Prometheus endpoint, yet kept three time-window HDR histograms written per exec.
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofNanos(10_000))
            .maximumExpectedValue(Duration.ofSeconds(10))
            .register(registry);
    // Every event kind's counter now, not at its first event: that lookup takes ClassValue's slow
    // path on the reader thread, a branch the compiled track stage has not seen, and sends it back
    // to the interpreter on a calm host for thousands of execs (benchmarks/README.md, "Calm p50:
    // the wake-up floor").
    for (Class<?> kind : RuntimeEvent.class.getPermittedSubclasses()) {
      eventsIn.get(kind);
    }
    this.bytesHashed =
        DistributionSummary.builder("veriruntime.bytes.hashed")
            .baseUnit("bytes")
            .register(registry);
    this.packageReloads =
        Counter.builder("veriruntime.package.database.reloads")
            .description("package database snapshots reloaded after the package manager changed it")
            .register(registry);
    this.packageFilesChanged =
        Counter.builder("veriruntime.package.database.files.changed")
            .description("file records added, removed or changed by package database reloads")
            .register(registry);
  }

  /**
   * Gauges of {@code book}: {@code veriruntime.incidents.open}, {@code
   * veriruntime.incidents.resolved}, {@code veriruntime.events.self.suppressed} (findings about the
   * agent's own process, dropped) and {@code veriruntime.incidents.overflow} (findings that passed
   * without incident because the book was full).
   */
  public void bind(IncidentBook book) {
    io.micrometer.core.instrument.Gauge.builder(
            "veriruntime.incidents.open", book, b -> b.openIncidents().size())
        .register(registry);
    io.micrometer.core.instrument.Gauge.builder(
            "veriruntime.incidents.resolved", book, IncidentBook::resolvedCount)
        .register(registry);
    io.micrometer.core.instrument.Gauge.builder(
            "veriruntime.events.self.suppressed", book, IncidentBook::selfSuppressed)
        .register(registry);
    io.micrometer.core.instrument.Gauge.builder(
            "veriruntime.incidents.overflow", book, IncidentBook::overflow)
        .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  private Counter counter(String name, String tag, String value) {
    return counters.computeIfAbsent(
        name + '\0' + value, k -> Counter.builder(name).tag(tag, value).register(registry));
  }

  public void eventIn(String kind) {
    counter("veriruntime.events.in", "kind", kind).increment();
  }

  /** As {@link #eventIn(String)} with the class's simple name, its counter looked up once. */
  public void eventIn(Class<?> kind) {
    eventsIn.get(kind).increment();
  }

  public void lost(String kind, long n) {
    counter("veriruntime.events.lost", "kind", kind).increment(n);
  }

  public void dropped(String place, long n) {
    counter("veriruntime.events.dropped", "place", place).increment(n);
  }

  public void verdict(String verdict) {
    counter("veriruntime.verdicts", "verdict", verdict).increment();
  }

  /**
   * A cache miss verified on {@code thread}: "reader" (the ring reader, within its budget) or
   * "lane".
   */
  public void verifiedOn(String thread) {
    counter("veriruntime.verifications", "thread", thread).increment();
  }

  public void cache(String result) {
    counter("veriruntime.cache.lookups", "result", result).increment();
  }

  /** {@code cache("hit")}, the lookup of every event of a busy host, without the name lookup. */
  public void cacheHit() {
    Counter c = cacheHits;
    if (c == null) {
      c = counter("veriruntime.cache.lookups", "result", "hit");
      cacheHits = c;
    }
    c.increment();
  }

  public void emitted(String type) {
    // Once per event: looked up by the type name alone (the general lookup builds a key string).
    emitted
        .computeIfAbsent(type, t -> counter("veriruntime.events.emitted", "type", t))
        .increment();
  }

  public void packageDatabaseReloaded(int filesChanged) {
    packageReloads.increment();
    packageFilesChanged.increment(filesChanged);
  }

  public void lineageDecision(String outcome) {
    counter("veriruntime.lineage.decisions", "outcome", outcome).increment();
  }

  public void lineageFile() {
    counter("veriruntime.lineage.files", "phase", "done").increment();
  }

  public void hashed(long bytes) {
    bytesHashed.record(bytes);
  }

  public void execLatency(long nanos) {
    if (nanos >= 0) {
      execLatency.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  public Timer execLatencyTimer() {
    return execLatency;
  }
}
