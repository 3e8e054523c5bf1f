package dev.veriruntime.api.intake;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Token buckets per alert source, and one for all sources together so that a sender inventing
 * source names cannot multiply its budget. At most {@code maxSources} buckets are kept (the least
 * recently used is forgotten). Time from an injected nano clock. Thread safe (synchronized: one
 * call per alert).
 *
 * <p>The pipeline has its own bucket for sinks; this module may not depend on the pipeline.
 */
final class SourceRates {
  private final double perSourceRate;
  private final int perSourceBurst;
  private final LongSupplier nanos;
  private final Bucket all;
  private final Map<String, Bucket> sources;

  SourceRates(
      double perSourceRate,
      int perSourceBurst,
      double totalRate,
      int maxSources,
      LongSupplier nanos) {
    if (perSourceRate <= 0 || perSourceBurst < 1 || totalRate <= 0 || maxSources < 1) {
      throw new IllegalArgumentException("rates must be positive, bursts and sources at least 1");
    }
    this.perSourceRate = perSourceRate;
    this.perSourceBurst = perSourceBurst;
    this.nanos = nanos;
    this.all = new Bucket(totalRate, Math.max(perSourceBurst, (int) Math.ceil(totalRate)), now());
    this.sources =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > maxSources;
          }
        };
  }

  /** Takes one token from {@code source}'s bucket and the shared one; false: over the rate. */
  synchronized boolean tryAcquire(String source) {
    long now = now();
    Bucket b = sources.computeIfAbsent(source, s -> new Bucket(perSourceRate, perSourceBurst, now));
    if (!b.available(now) || !all.available(now)) {
      return false;
    }
    b.take();
    all.take();
    return true;
  }

  private long now() {
    return nanos.getAsLong();
  }

  private static final class Bucket {
    final double perNano;
    final double burst;
    double tokens;
    long last;

    Bucket(double perSecond, int burst, long now) {
      this.perNano = perSecond / 1e9;
      this.burst = burst;
      this.tokens = burst;
      this.last = now;
    }

    boolean available(long now) {
      tokens = Math.min(burst, tokens + (now - last) * perNano);
      last = now;
      return tokens >= 1;
    }

    void take() {
      tokens -= 1;
    }
  }
}
