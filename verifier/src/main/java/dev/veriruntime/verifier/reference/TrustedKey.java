package dev.veriruntime.verifier.reference;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.util.PublicKeyFactory;

/**
 * A public key whose signatures are trusted, identified by its key id: the lowercase hex SHA-256 of
 * its SubjectPublicKeyInfo DER encoding (the bytes inside a {@code -----BEGIN PUBLIC KEY-----} PEM
 * block). Immutable and thread-safe: each verification uses its own BouncyCastle signer.
 */
public final class TrustedKey {
  static final String PEM_LABEL = "PUBLIC KEY";

  private final String keyId;
  private final KeyType type;
  private final AsymmetricKeyParameter publicKey;
  private final byte[] spki;
  private final String origin;

  private TrustedKey(
      String keyId, KeyType type, AsymmetricKeyParameter publicKey, byte[] spki, String origin) {
    this.keyId = keyId;
    this.type = type;
    this.publicKey = publicKey;
    this.spki = spki;
    this.origin = origin;
  }

  /** Where the key came from: the PEM file it was loaded from, or the origin given to fromSpki. */
  public String origin() {
    return origin;
  }

  /**
   * Load an SPKI PEM public key file.
   *
   * @throws ReferenceException KEY_INVALID if the file is missing, unreadable, not a public key
   *     PEM, or not an Ed25519 or ECDSA P-256 key
   */
  public static TrustedKey load(Path file) throws ReferenceException {
    return fromSpki(PemFiles.read(file, PEM_LABEL), file.toString());
  }

  /**
   * A key from SubjectPublicKeyInfo DER bytes.
   *
   * @param origin names the source in error messages
   * @throws ReferenceException KEY_INVALID for malformed DER or an unsupported algorithm
   */
  public static TrustedKey fromSpki(byte[] spki, String origin) throws ReferenceException {
    SubjectPublicKeyInfo info;
    try {
      info = SubjectPublicKeyInfo.getInstance(spki);
    } catch (RuntimeException e) {
      throw new ReferenceException(
          ReferenceException.Kind.KEY_INVALID,
          "public key " + origin + " is not a valid SubjectPublicKeyInfo");
    }
    KeyType type = Crypto.keyType(info.getAlgorithm(), origin);
    AsymmetricKeyParameter key;
    try {
      // For EC keys this also checks that the point lies on the curve.
      key = PublicKeyFactory.createKey(info);
    } catch (IOException | RuntimeException e) {
      key = null;
    }
    boolean expected =
        type == KeyType.ED25519
            ? key instanceof Ed25519PublicKeyParameters
            : key instanceof ECPublicKeyParameters;
    if (!expected) {
      throw new ReferenceException(
          ReferenceException.Kind.KEY_INVALID,
          "public key " + origin + " is not a valid " + type + " key");
    }
    return new TrustedKey(Crypto.sha256Hex(spki), type, key, spki.clone(), origin);
  }

  /** Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER. */
  public String keyId() {
    return keyId;
  }

  public KeyType type() {
    return type;
  }

  /** The SubjectPublicKeyInfo DER bytes (a copy). */
  public byte[] spki() {
    return spki.clone();
  }

  /** The key as an SPKI PEM text block. */
  public String toPem() {
    return PemFiles.encode(PEM_LABEL, spki);
  }

  /**
   * Whether {@code signature} is a valid signature by this key over {@code data}. A signature that
   * is malformed for this key type (wrong length, bad DER) is simply not valid: this never throws.
   */
  public boolean verify(byte[] data, byte[] signature) {
    return Crypto.verify(type, publicKey, data, signature);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrustedKey k && k.keyId.equals(keyId);
  }

  @Override
  public int hashCode() {
    return Objects.hash(keyId);
  }

  @Override
  public String toString() {
    return type + " key " + keyId;
  }
}
