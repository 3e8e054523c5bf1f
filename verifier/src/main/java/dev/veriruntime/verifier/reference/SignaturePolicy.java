package dev.veriruntime.verifier.reference;

/** What {@link ReferenceLoader} does with a statement that no trusted key signed. */
public enum SignaturePolicy {
  /**
   * Refuse it ({@link ReferenceException.Kind#SIGNATURE_INVALID}): plain statements, envelopes
   * without signatures and envelopes signed only by unknown keys. Used by {@code refs verify}.
   */
  REQUIRE_TRUSTED,
  /**
   * Load it, with its references marked unsigned, so their binaries can at best be DEGRADED (the
   * SIGNATURE scope stays NOT_VERIFIED). A signature by a <em>trusted</em> key that fails to verify
   * is still refused under this policy: that is evidence of tampering, not a missing signature.
   */
  ALLOW_UNSIGNED
}
