package dev.veriruntime.verifier;

/**
 * The overall answer for a binary or a process, derived from its {@link Coverage} by {@link
 * #decide(Coverage, boolean)}. The rule is the product's first guarantee: never silent success.
 */
public enum Verdict {
  /** Every intended scope was checked and passed. */
  VERIFIED,
  /** No trusted reference knows this binary (by digest or by path). */
  UNKNOWN,
  /** A reference exists and something differs, or a runtime check found tampering. */
  FAILED,
  /** Nothing failed, but at least one intended scope could not be checked. */
  DEGRADED;

  /**
   * FAILED if any scope failed; else UNKNOWN if no reference was found; else DEGRADED if any scope
   * was not verified; else VERIFIED.
   */
  public static Verdict decide(Coverage coverage, boolean referenceFound) {
    if (coverage.anyFailed()) {
      return FAILED;
    }
    if (!referenceFound) {
      return UNKNOWN;
    }
    if (coverage.anyNotVerified()) {
      return DEGRADED;
    }
    return VERIFIED;
  }
}
