package dev.veriruntime.ingest;

import java.util.Arrays;

/**
 * Records lost during a window, as a {@link RingBufferReader} reports them: those the kernel could
 * not store (ring full) plus those the decoder rejected, per counter key (for the product probe,
 * the {@code enum vr_kind} code).
 *
 * @param startNanos window start, CLOCK_MONOTONIC ns (the previous report, or the reader's start)
 * @param endNanos window end, CLOCK_MONOTONIC ns
 * @param lostByKey lost records per key; index = key
 */
public record LossWindow(long startNanos, long endNanos, long[] lostByKey) {
  public LossWindow {
    lostByKey = lostByKey.clone();
  }

  @Override
  public long[] lostByKey() {
    return lostByKey.clone();
  }

  public long lost(int key) {
    return key >= 0 && key < lostByKey.length ? lostByKey[key] : 0;
  }

  public long total() {
    return Arrays.stream(lostByKey).sum();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof LossWindow w
        && w.startNanos == startNanos
        && w.endNanos == endNanos
        && Arrays.equals(w.lostByKey, lostByKey);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(startNanos) * 31
        + Long.hashCode(endNanos) * 17
        + Arrays.hashCode(lostByKey);
  }

  @Override
  public String toString() {
    return "LossWindow["
        + startNanos
        + ".."
        + endNanos
        + ", lost="
        + Arrays.toString(lostByKey)
        + "]";
  }
}
