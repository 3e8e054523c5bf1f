package dev.veriruntime.verifier.reference;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jcajce.interfaces.EdDSAPrivateKey;
import org.bouncycastle.jce.interfaces.ECPrivateKey;
import org.bouncycastle.jce.spec.ECParameterSpec;
import org.bouncycastle.jce.spec.ECPublicKeySpec;

/**
 * A private key that signs DSSE envelopes, with its public half as a {@link TrustedKey} (whose key
 * id goes into every signature it makes). Stored as PKCS#8 PEM ({@code -----BEGIN PRIVATE
 * KEY-----}). Immutable; {@link #sign} is thread-safe.
 *
 * <pre>{@code
 * SigningKey key = SigningKey.generate(KeyType.ED25519);
 * key.writeNew(Path.of("ci.key"), Path.of("ci.pub"));   // ci.key gets mode 0600
 * DsseEnvelope env = DsseEnvelope.sign(DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, statementBytes, key);
 * }</pre>
 */
public final class SigningKey {
  static final String PEM_LABEL = "PRIVATE KEY";

  private final KeyType type;
  private final PrivateKey privateKey;
  private final TrustedKey publicKey;

  private SigningKey(KeyType type, PrivateKey privateKey, TrustedKey publicKey) {
    this.type = type;
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  /** A fresh key pair from the JDK's default {@link java.security.SecureRandom}. */
  public static SigningKey generate(KeyType type) {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance(type.keyAlgorithm(), Crypto.bc());
      if (type == KeyType.ECDSA_P256) {
        gen.initialize(new ECGenParameterSpec("secp256r1"));
      }
      KeyPair pair = gen.generateKeyPair();
      return new SigningKey(
          type,
          pair.getPrivate(),
          TrustedKey.fromSpki(pair.getPublic().getEncoded(), "generated key"));
    } catch (GeneralSecurityException | ReferenceException e) {
      throw new IllegalStateException("BouncyCastle cannot generate a " + type + " key", e);
    }
  }

  /**
   * Load a PKCS#8 PEM private key.
   *
   * @throws ReferenceException KEY_INVALID if the file is missing, unreadable, not PKCS#8 PEM, or
   *     not an Ed25519 or ECDSA P-256 key
   */
  public static SigningKey load(Path file) throws ReferenceException {
    byte[] der = PemFiles.read(file, PEM_LABEL);
    PrivateKeyInfo info;
    try {
      info = PrivateKeyInfo.getInstance(der);
    } catch (RuntimeException e) {
      throw new ReferenceException(
          ReferenceException.Kind.KEY_INVALID,
          "private key " + file + " is not a valid PKCS#8 structure");
    }
    KeyType type = Crypto.keyType(info.getPrivateKeyAlgorithm(), file.toString());
    try {
      PrivateKey key =
          KeyFactory.getInstance(type.keyAlgorithm(), Crypto.bc())
              .generatePrivate(new PKCS8EncodedKeySpec(der));
      return new SigningKey(
          type, key, TrustedKey.fromSpki(derivePublic(key).getEncoded(), file.toString()));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new ReferenceException(
          ReferenceException.Kind.KEY_INVALID,
          "private key " + file + " is not a valid " + type + " key");
    }
  }

  // PKCS#8 files need not carry the public key, so it is recomputed from the private scalar/seed.
  private static PublicKey derivePublic(PrivateKey key) throws GeneralSecurityException {
    if (key instanceof EdDSAPrivateKey ed) {
      return ed.getPublicKey();
    }
    if (key instanceof ECPrivateKey ec) {
      ECParameterSpec params = ec.getParameters();
      return KeyFactory.getInstance("EC", Crypto.bc())
          .generatePublic(
              new ECPublicKeySpec(params.getG().multiply(ec.getD()).normalize(), params));
    }
    throw new GeneralSecurityException("unexpected private key class " + key.getClass().getName());
  }

  public KeyType type() {
    return type;
  }

  /** The key id of the public half (see {@link TrustedKey#keyId()}). */
  public String keyId() {
    return publicKey.keyId();
  }

  public TrustedKey publicKey() {
    return publicKey;
  }

  /** Signs {@code data} (for DSSE: the PAE encoding, see {@link DsseEnvelope#pae}). */
  public byte[] sign(byte[] data) {
    try {
      Signature signer = Signature.getInstance(type.signatureAlgorithm(), Crypto.bc());
      signer.initSign(privateKey);
      signer.update(data);
      return signer.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing with a loaded " + type + " key failed", e);
    }
  }

  /**
   * Write the PKCS#8 PEM private key (mode 0600, set when the file is created) and the SPKI PEM
   * public key. Neither file may exist already.
   *
   * @throws java.nio.file.FileAlreadyExistsException if either file exists (nothing is written)
   * @throws IOException if a file cannot be created or written
   */
  public void writeNew(Path privateFile, Path publicFile) throws IOException {
    if (Files.exists(publicFile, LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(publicFile.toString());
    }
    PemFiles.writeNew(privateFile, PEM_LABEL, privateKey.getEncoded(), true);
    PemFiles.writeNew(publicFile, TrustedKey.PEM_LABEL, publicKey.spki(), false);
  }
}
