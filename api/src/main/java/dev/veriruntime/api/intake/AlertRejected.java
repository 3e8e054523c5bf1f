package dev.veriruntime.api.intake;

import java.util.Objects;

/**
 * An alert the intake refused, with the reason a caller can act on. Every refusal is counted
 * ({@code veriruntime.intake.alerts{outcome=rejected, reason=...}}); nothing refused is queued.
 */
public final class AlertRejected extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why, each with the HTTP status it is answered with. */
  public enum Reason {
    /** The body is not JSON, or not the format's shape (a field missing or of the wrong type). */
    MALFORMED(400),
    /** No such format ({@link AlertFormat}). */
    UNKNOWN_FORMAT(400),
    /** The pid does not run and the path does not exist (or neither was given usably). */
    NO_SUCH_TARGET(404),
    /**
     * The path lies inside a container and no running pid of it was given: the host cannot reach
     * that file, and verifying the host's file of that name would answer another question.
     */
    UNRESOLVABLE_TARGET(422),
    /** The body is larger than the intake's limit. */
    TOO_LARGE(413),
    /** The source sent more than its rate allows. */
    RATE_LIMITED(429),
    /** Too many accepted alerts wait for verification. */
    BUSY(503);

    private final int httpStatus;

    Reason(int httpStatus) {
      this.httpStatus = httpStatus;
    }

    public int httpStatus() {
      return httpStatus;
    }

    /** The lowercase tag value of the refusal counter. */
    public String tag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final Reason reason;

  public AlertRejected(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public Reason reason() {
    return reason;
  }
}
