package dev.veriruntime.verifier.reference;

import java.util.Locale;

/** The signature schemes accepted for reference envelopes. */
public enum KeyType {
  /** Ed25519 (RFC 8032); signatures are the raw 64 bytes. */
  ED25519("ed25519"),
  /** ECDSA over NIST P-256 with SHA-256; signatures are ASN.1 DER {@code SEQUENCE {r, s}}. */
  ECDSA_P256("ecdsa-p256");

  private final String cliName;

  KeyType(String cliName) {
    this.cliName = cliName;
  }

  /**
   * The name used on the command line and in documentation: {@code ed25519}, {@code ecdsa-p256}.
   */
  public String cliName() {
    return cliName;
  }

  /**
   * Parse a {@link #cliName()}.
   *
   * @throws IllegalArgumentException for any other name
   */
  public static KeyType fromCliName(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (KeyType t : values()) {
      if (t.cliName.equals(n)) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "unsupported key type '" + name + "' (use ed25519 or ecdsa-p256)");
  }

  @Override
  public String toString() {
    return cliName;
  }
}
