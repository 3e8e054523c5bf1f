package dev.veriruntime.verifier.reference;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.ECKeyPairGenerator;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECKeyGenerationParameters;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;

/**
 * A private key that signs DSSE envelopes, with its public half as a {@link TrustedKey} (whose key
 * id goes into every signature it makes). Stored as PKCS#8 PEM ({@code -----BEGIN PRIVATE
 * KEY-----}). Immutable; {@link #sign} is thread-safe. ECDSA signatures use RFC 6979 deterministic
 * nonces, so signing needs no random numbers and the same input gives the same envelope.
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
  private final AsymmetricKeyParameter privateKey;
  private final TrustedKey publicKey;

  private SigningKey(KeyType type, AsymmetricKeyParameter privateKey, TrustedKey publicKey) {
    this.type = type;
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  /** A fresh key from a new {@link SecureRandom}. */
  public static SigningKey generate(KeyType type) {
    SecureRandom random = new SecureRandom();
    AsymmetricKeyParameter key;
    if (type == KeyType.ED25519) {
      key = new Ed25519PrivateKeyParameters(random);
    } else {
      ECKeyPairGenerator gen = new ECKeyPairGenerator();
      gen.init(
          new ECKeyGenerationParameters(
              new ECNamedDomainParameters(
                  Crypto.PRIME256V1, ECNamedCurveTable.getByOID(Crypto.PRIME256V1)),
              random));
      AsymmetricCipherKeyPair pair = gen.generateKeyPair();
      key = pair.getPrivate();
    }
    try {
      return of(type, key, "generated key");
    } catch (ReferenceException e) {
      throw new IllegalStateException("a freshly generated " + type + " key is valid", e);
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
      throw invalid("private key " + file + " is not a valid PKCS#8 structure");
    }
    KeyType type = Crypto.keyType(info.getPrivateKeyAlgorithm(), file.toString());
    AsymmetricKeyParameter key;
    try {
      key = PrivateKeyFactory.createKey(info);
    } catch (IOException | RuntimeException e) {
      throw invalid("private key " + file + " is not a valid " + type + " key");
    }
    return of(type, key, "private key " + file);
  }

  private static SigningKey of(KeyType type, AsymmetricKeyParameter key, String origin)
      throws ReferenceException {
    // PKCS#8 files need not carry the public key, so it is recomputed from the private one.
    AsymmetricKeyParameter pub;
    if (type == KeyType.ED25519 && key instanceof Ed25519PrivateKeyParameters ed) {
      pub = ed.generatePublicKey();
    } else if (type == KeyType.ECDSA_P256
        && key instanceof ECPrivateKeyParameters ec
        && ec.getParameters() instanceof ECNamedDomainParameters) {
      ECDomainParameters params = ec.getParameters();
      pub =
          new ECPublicKeyParameters(
              new FixedPointCombMultiplier().multiply(params.getG(), ec.getD()).normalize(),
              params);
    } else {
      throw invalid(origin + " is not a valid " + type + " key");
    }
    try {
      byte[] spki = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(pub).getEncoded();
      return new SigningKey(type, key, TrustedKey.fromSpki(spki, origin));
    } catch (IOException e) {
      throw invalid(origin + ": its public key cannot be encoded: " + e.getMessage());
    }
  }

  private static ReferenceException invalid(String message) {
    return new ReferenceException(ReferenceException.Kind.KEY_INVALID, message);
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
    return Crypto.sign(type, privateKey, data);
  }

  /**
   * The PKCS#8 DER encoding. Ed25519 keys are written as RFC 8410 version 1 (seed only): the
   * version 2 form with the public key appended, BouncyCastle's default, is refused by OpenSSL 3.0.
   */
  byte[] pkcs8() throws IOException {
    if (privateKey instanceof Ed25519PrivateKeyParameters ed) {
      return new PrivateKeyInfo(
              new AlgorithmIdentifier(Crypto.ID_ED25519), new DEROctetString(ed.getEncoded()))
          .getEncoded(ASN1Encoding.DER);
    }
    return PrivateKeyInfoFactory.createPrivateKeyInfo(privateKey).getEncoded(ASN1Encoding.DER);
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
    byte[] pkcs8 = pkcs8();
    PemFiles.writeNew(privateFile, PEM_LABEL, pkcs8, true);
    PemFiles.writeNew(publicFile, TrustedKey.PEM_LABEL, publicKey.spki(), false);
  }
}
