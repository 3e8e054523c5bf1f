package dev.veriruntime.ingest.event;

import java.util.EnumSet;
import java.util.Set;

/**
 * Why the agent asked the probe to report writes into a file ({@code enum vr_watch_reason} in
 * bpf/veriruntime.h, bits of the {@code vr_watched_files} value).
 */
public enum WatchReason {
  /** The agent verified the file and caches its verdict. */
  VERIFIED(1),
  /** A running process maps the file executable. */
  MAPPED_EXECUTABLE(2),
  /** The agent itself runs from the file (its jars, the JVM, libbpf, the probe object). */
  SELF(4);

  private final int bit;

  WatchReason(int bit) {
    this.bit = bit;
  }

  /** The wire bit. */
  public int bit() {
    return bit;
  }

  /** The bits of a set of reasons. */
  public static int bits(Set<WatchReason> reasons) {
    int bits = 0;
    for (WatchReason reason : reasons) {
      bits |= reason.bit;
    }
    return bits;
  }

  /** The reasons whose bits are set; unknown bits are ignored. */
  public static Set<WatchReason> of(int bits) {
    EnumSet<WatchReason> reasons = EnumSet.noneOf(WatchReason.class);
    for (WatchReason reason : values()) {
      if ((bits & reason.bit) != 0) {
        reasons.add(reason);
      }
    }
    return reasons;
  }
}
