package dev.veriruntime.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The observations one latency histogram received in a window: its finite bucket bounds with the
 * cumulative counts (Prometheus {@code le} semantics: observations ≤ the bound) and the total,
 * which also counts what fell above the last finite bound. Quantiles and the CDF are read from the
 * buckets, as PromQL's {@code histogram_quantile} does. Immutable.
 *
 * @param buckets finite bounds in increasing order, with non-decreasing cumulative counts
 * @param total every observation, including the {@code +Inf} bucket
 */
public record LatencyHistogram(List<Bucket> buckets, long total) {
  /** Observations of at most {@code leSeconds}. */
  public record Bucket(double leSeconds, long cumulative) {}

  /** One point of the empirical CDF: a fraction of the observations took at most {@code ms}. */
  public record CdfPoint(double ms, double fraction) {}

  public LatencyHistogram {
    buckets = List.copyOf(buckets);
  }

  public static LatencyHistogram empty() {
    return new LatencyHistogram(List.of(), 0);
  }

  /**
   * The {@code q} quantile in seconds, interpolated linearly inside the bucket that holds it; NaN
   * when nothing was observed; the last finite bound when it falls above every finite bound.
   */
  public double quantileSeconds(double q) {
    if (total <= 0) {
      return Double.NaN;
    }
    double rank = q * total;
    double lowerBound = 0;
    long lowerCount = 0;
    for (Bucket b : buckets) {
      if (b.cumulative >= rank) {
        long inBucket = b.cumulative - lowerCount;
        return inBucket <= 0
            ? b.leSeconds
            : lowerBound + (b.leSeconds - lowerBound) * (rank - lowerCount) / inBucket;
      }
      lowerBound = b.leSeconds;
      lowerCount = b.cumulative;
    }
    return lowerBound;
  }

  /**
   * The CDF at the bucket bounds, in milliseconds: from the last empty bound before the first
   * observation (fraction 0) to the first bound that holds them all (or the last finite bound).
   * Empty when nothing was observed.
   */
  public List<CdfPoint> cdf() {
    List<CdfPoint> out = new ArrayList<>();
    if (total <= 0) {
      return out;
    }
    Bucket previous = null;
    for (Bucket b : buckets) {
      if (b.cumulative == 0) {
        previous = b;
        continue;
      }
      if (out.isEmpty() && previous != null) {
        out.add(new CdfPoint(previous.leSeconds * 1000, 0));
      }
      out.add(new CdfPoint(b.leSeconds * 1000, b.cumulative / (double) total));
      if (b.cumulative >= total) {
        break;
      }
    }
    return out;
  }

  /** The observations of all {@code parts} together (bounds: the union of theirs). */
  public static LatencyHistogram merge(List<LatencyHistogram> parts) {
    TreeSet<Double> bounds = new TreeSet<>();
    long total = 0;
    for (LatencyHistogram h : parts) {
      h.buckets.forEach(b -> bounds.add(b.leSeconds));
      total += h.total;
    }
    List<Bucket> merged = new ArrayList<>();
    for (double le : bounds) {
      long sum = 0;
      for (LatencyHistogram h : parts) {
        sum += h.cumulativeAt(le);
      }
      merged.add(new Bucket(le, sum));
    }
    return new LatencyHistogram(merged, total);
  }

  /**
   * Observations ≤ {@code le} as far as the buckets tell: the count at the largest bound ≤ {@code
   * le}.
   */
  long cumulativeAt(double le) {
    long c = 0;
    for (Bucket b : buckets) {
      if (b.leSeconds > le) {
        break;
      }
      c = b.cumulative;
    }
    return c;
  }
}
