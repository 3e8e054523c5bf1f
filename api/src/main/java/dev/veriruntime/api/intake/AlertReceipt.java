package dev.veriruntime.api.intake;

import java.time.Instant;

/**
 * The intake's answer to an accepted alert (HTTP 202): the verification it started, or the earlier
 * alert it was folded into.
 *
 * @param alertId the alert's id
 * @param source who raised it
 * @param rule its rule (null when it has none)
 * @param target what is verified: "pid 4242" or a path
 * @param action {@link Action#VERIFYING} or {@link Action#FOLDED}
 * @param foldedInto for a folded alert, the id of the alert whose verification answers it; else
 *     null
 * @param repeats how many alerts of this source, rule and target were folded into the first within
 *     the fold window (0 for the first)
 * @param receivedAt when it was received
 */
public record AlertReceipt(
    String alertId,
    String source,
    String rule,
    String target,
    Action action,
    String foldedInto,
    long repeats,
    Instant receivedAt) {

  /** What the intake did with an accepted alert. */
  public enum Action {
    /** A verification of its target was queued and runs at once. */
    VERIFYING,
    /**
     * The same source, rule and target asked within the fold window: answered by that earlier
     * verification, counted, not verified again.
     */
    FOLDED
  }
}
