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

  /**
   * The scopes only a reference can answer (there is nothing to compare the bytes, sections or
   * signature with): for a file trusted by its build lineage they stay NOT_VERIFIED and are not
   * what its verdict rests on.
   */
  public static final java.util.Set<Scope> REFERENCE_ONLY_SCOPES =
      java.util.Set.copyOf(
          java.util.EnumSet.of(Scope.DISK_HASH, Scope.ELF_SECTIONS, Scope.SIGNATURE));

  /**
   * The verdict for a file no reference knows, when its build lineage is the trust anchor: FAILED
   * if any scope failed; UNKNOWN unless {@link Scope#LINEAGE} was verified; DEGRADED if any other
   * scope outside {@link #REFERENCE_ONLY_SCOPES} was not verified; else VERIFIED. Never silent
   * success: the coverage still shows DISK_HASH and SIGNATURE as NOT_VERIFIED, and LINEAGE names
   * the chain.
   */
  public static Verdict decideByLineage(Coverage coverage) {
    if (coverage.anyFailed()) {
      return FAILED;
    }
    boolean lineage =
        coverage.get(Scope.LINEAGE).map(r -> r.status() == ScopeStatus.VERIFIED).orElse(false);
    if (!lineage) {
      return UNKNOWN;
    }
    boolean missing =
        coverage.results().values().stream()
            .anyMatch(
                r ->
                    r.status() == ScopeStatus.NOT_VERIFIED
                        && !REFERENCE_ONLY_SCOPES.contains(r.scope()));
    return missing ? DEGRADED : VERIFIED;
  }
}
