package dev.veriruntime.pipeline;

import java.time.Duration;
import java.util.List;

/**
 * When a lasting condition is reported again: each delay in turn after the report before, the last
 * one repeated. Shared by the loss reports and the log's folded repeats, so both remind alike.
 */
public record Reminders(List<Duration> delays) {
  /** 1 min, 10 min, then every hour: a condition that lasts a day is about 26 reports. */
  public static final Reminders HOURLY =
      new Reminders(List.of(Duration.ofMinutes(1), Duration.ofMinutes(10), Duration.ofHours(1)));

  public Reminders {
    if (delays.isEmpty() || delays.stream().anyMatch(d -> d.isNegative() || d.isZero())) {
      throw new IllegalArgumentException("reminder delays must be positive: " + delays);
    }
    delays = List.copyOf(delays);
  }

  /** The delay after the report that follows {@code reportsBefore} earlier ones (0: the first). */
  public Duration after(int reportsBefore) {
    return delays.get(Math.min(reportsBefore, delays.size() - 1));
  }
}
