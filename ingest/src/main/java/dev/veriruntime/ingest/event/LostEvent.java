package dev.veriruntime.ingest.event;

import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Records the kernel could not store (the ring buffer was full) during a window: coverage is
 * partial and the pipeline must say so (DESIGN guarantee 1). Built by the counter reader from the
 * probe's per-CPU counters, never from a ring-buffer record.
 *
 * @param windowStartNanos start of the window, CLOCK_MONOTONIC nanoseconds
 * @param windowEndNanos end of the window, CLOCK_MONOTONIC nanoseconds
 * @param lostByKind records lost per kind in the window; kinds with none lost may be absent
 */
public record LostEvent(long windowStartNanos, long windowEndNanos, Map<EventKind, Long> lostByKind)
    implements RuntimeEvent {
  public LostEvent {
    Objects.requireNonNull(lostByKind, "lostByKind");
    if (windowEndNanos < windowStartNanos) {
      throw new IllegalArgumentException("window ends before it starts");
    }
    lostByKind = lostByKind.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(lostByKind));
  }

  /** The end of the window. */
  @Override
  public long kernelTimeNanos() {
    return windowEndNanos;
  }

  /** All records lost in the window. */
  public long total() {
    return lostByKind.values().stream().mapToLong(Long::longValue).sum();
  }
}
