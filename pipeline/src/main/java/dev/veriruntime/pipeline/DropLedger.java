package dev.veriruntime.pipeline;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts everything the pipeline could not handle fully, per place ("kernel.exec", "stage.verify",
 * "sink.webhook"...). {@link #drain()} returns and resets the counts since the last drain; the
 * {@link DropReporter} turns them into VERIFICATION_DEGRADED loss reports. Threshold zero: a single
 * drop is reported. Thread-safe.
 */
public final class DropLedger {
  private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, LongAdder> totals = new ConcurrentHashMap<>();

  public void add(String place, long n) {
    if (n <= 0) {
      return;
    }
    counts.computeIfAbsent(place, k -> new LongAdder()).add(n);
    totals.computeIfAbsent(place, k -> new LongAdder()).add(n);
  }

  /**
   * Counts {@code n} losses in the totals only: they are reported another way (a failing sink's
   * condition, reported once when it starts and once when it ends), not by the next drain.
   */
  public void addReportedElsewhere(String place, long n) {
    if (n > 0) {
      totals.computeIfAbsent(place, k -> new LongAdder()).add(n);
    }
  }

  public void increment(String place) {
    add(place, 1);
  }

  /** Counts since the previous drain, sorted by place; empty when nothing was lost. */
  public synchronized Map<String, Long> drain() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach(
        (place, adder) -> {
          long n = adder.sumThenReset();
          if (n > 0) {
            out.put(place, n);
          }
        });
    return out;
  }

  /** Counts since start, sorted by place (for Health and metrics). */
  public Map<String, Long> totals() {
    Map<String, Long> out = new TreeMap<>();
    totals.forEach((place, adder) -> out.put(place, adder.sum()));
    return out;
  }
}
