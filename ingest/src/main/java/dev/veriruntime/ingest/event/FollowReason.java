package dev.veriruntime.ingest.event;

import java.util.EnumSet;
import java.util.Set;

/**
 * Why the probe follows a process: every exec of a followed process is reported, even of a quiet
 * executable, and its children inherit the reasons at fork ({@code enum vr_follow_reason} in
 * bpf/veriruntime.h, bits of the {@code vr_follow_tasks} value).
 */
public enum FollowReason {
  /** The process has an open incident (written by the agent). */
  INCIDENT(1),
  /** It exec'd a build root named by the agent, or descends from one (build lineage on). */
  LINEAGE(2),
  /** It exec'd a toolchain executable, or descends from one (build lineage on). */
  TOOLCHAIN(4),
  /** Set by the probe on a child that inherited its parent's reasons at fork. */
  INHERITED(8);

  private final int bit;

  FollowReason(int bit) {
    this.bit = bit;
  }

  /** The wire bit. */
  public int bit() {
    return bit;
  }

  /** The bits of a set of reasons. */
  public static int bits(Set<FollowReason> reasons) {
    int bits = 0;
    for (FollowReason reason : reasons) {
      bits |= reason.bit;
    }
    return bits;
  }

  /** The reasons whose bits are set; unknown bits are ignored. */
  public static Set<FollowReason> of(int bits) {
    EnumSet<FollowReason> reasons = EnumSet.noneOf(FollowReason.class);
    for (FollowReason reason : values()) {
      if ((bits & reason.bit) != 0) {
        reasons.add(reason);
      }
    }
    return reasons;
  }
}
