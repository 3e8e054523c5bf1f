package dev.veriruntime.verifier.reference;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Objects;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/**
 * A public key whose signatures are trusted, identified by its key id: the lowercase hex SHA-256 of
 * its SubjectPublicKeyInfo DER encoding (the bytes inside a {@code -----BEGIN PUBLIC KEY-----} PEM
 * block). Immutable and thread-safe: each verification uses its own {@link Signature}.
 */
public final class TrustedKey {
  static final String PEM_LABEL = "PUBLIC KEY";

  private final String keyId;
  private final KeyType type;
  private final PublicKey publicKey;
  private final byte[] spki;

  private TrustedKey(String keyId, KeyType type, PublicKey publicKey, byte[] spki) {
    this.keyId = keyId;
    this.type = type;
    this.publicKey = publicKey;
    this.spki = spki;
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
    try {
      PublicKey key =
          KeyFactory.getInstance(type.keyAlgorithm(), Crypto.bc())
              .generatePublic(new X509EncodedKeySpec(spki));
      return new TrustedKey(Crypto.sha256Hex(spki), type, key, spki.clone());
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new ReferenceException(
          ReferenceException.Kind.KEY_INVALID,
          "public key " + origin + " is not a valid " + type + " key");
    }
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
    try {
      Signature verifier = Signature.getInstance(type.signatureAlgorithm(), Crypto.bc());
      verifier.initVerify(publicKey);
      verifier.update(data);
      return verifier.verify(signature);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
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
