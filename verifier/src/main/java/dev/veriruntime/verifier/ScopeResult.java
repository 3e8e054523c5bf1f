package dev.veriruntime.verifier;

import java.util.Objects;

/**
 * The status of one scope together with the reason behind it. A reason is required for every status
 * other than {@link ScopeStatus#VERIFIED}, so a report never says "not verified" without saying
 * why.
 */
public record ScopeResult(Scope scope, ScopeStatus status, String reason) {

  public ScopeResult {
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(status, "status");
    if (status != ScopeStatus.VERIFIED && (reason == null || reason.isBlank())) {
      throw new IllegalArgumentException(scope + " " + status + " needs a reason");
    }
    reason = reason == null ? "" : reason;
  }

  public static ScopeResult verified(Scope scope) {
    return new ScopeResult(scope, ScopeStatus.VERIFIED, "");
  }

  public static ScopeResult verified(Scope scope, String detail) {
    return new ScopeResult(scope, ScopeStatus.VERIFIED, detail);
  }

  public static ScopeResult failed(Scope scope, String reason) {
    return new ScopeResult(scope, ScopeStatus.FAILED, reason);
  }

  public static ScopeResult notVerified(Scope scope, String reason) {
    return new ScopeResult(scope, ScopeStatus.NOT_VERIFIED, reason);
  }

  public static ScopeResult notApplicable(Scope scope, String reason) {
    return new ScopeResult(scope, ScopeStatus.NOT_APPLICABLE, reason);
  }
}
