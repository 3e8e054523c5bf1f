package dev.veriruntime.verifier;

/** The outcome of checking one {@link Scope}. */
public enum ScopeStatus {
  /** Checked, and it passed. */
  VERIFIED,
  /** Checked, and it did not pass: the accompanying reason says what differs. */
  FAILED,
  /** Intended but not checked (no reference, unreadable, process gone...): the reason says why. */
  NOT_VERIFIED,
  /** Does not apply to this object (for example ELF scopes for a shebang script). */
  NOT_APPLICABLE
}
