package dev.veriruntime.verifier.reference;

import java.io.IOException;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.crypto.CipherParameters;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;

/**
 * Signature primitives on BouncyCastle's lightweight API, plus the algorithm-identifier checks
 * shared by public and private keys. The lightweight API is used rather than the JCA provider:
 * constructing {@code BouncyCastleProvider} costs about 200 ms of CPU at start-up, this costs about
 * 20 ms, and nothing is registered JVM-wide.
 */
final class Crypto {
  static final ASN1ObjectIdentifier ID_ED25519 = new ASN1ObjectIdentifier("1.3.101.112");
  static final ASN1ObjectIdentifier ID_EC_PUBLIC_KEY =
      new ASN1ObjectIdentifier("1.2.840.10045.2.1");
  static final ASN1ObjectIdentifier PRIME256V1 = new ASN1ObjectIdentifier("1.2.840.10045.3.1.7");

  private Crypto() {}

  /** The key type named by an algorithm identifier, or a message saying why it is not supported. */
  static KeyType keyType(AlgorithmIdentifier algorithm, String file) throws ReferenceException {
    ASN1ObjectIdentifier oid = algorithm.getAlgorithm();
    if (ID_ED25519.equals(oid)) {
      return KeyType.ED25519;
    }
    if (ID_EC_PUBLIC_KEY.equals(oid)) {
      ASN1Encodable params = algorithm.getParameters();
      if (params instanceof ASN1ObjectIdentifier curve && PRIME256V1.equals(curve)) {
        return KeyType.ECDSA_P256;
      }
      throw new ReferenceException(
          ReferenceException.Kind.KEY_INVALID,
          "unsupported key type in "
              + file
              + ": EC curve "
              + params
              + " (only P-256 is supported)");
    }
    throw new ReferenceException(
        ReferenceException.Kind.KEY_INVALID,
        "unsupported key type in " + file + ": algorithm " + oid + " (use ed25519 or ecdsa-p256)");
  }

  /**
   * Ed25519 over {@code data}, or ECDSA over SHA-256({@code data}) with a deterministic nonce (RFC
   * 6979) encoded as DER {@code SEQUENCE {r, s}}.
   */
  static byte[] sign(KeyType type, CipherParameters privateKey, byte[] data) {
    if (type == KeyType.ED25519) {
      Ed25519Signer signer = new Ed25519Signer();
      signer.init(true, privateKey);
      signer.update(data, 0, data.length);
      return signer.generateSignature();
    }
    ECDSASigner signer = new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest()));
    signer.init(true, privateKey);
    BigInteger[] rs = signer.generateSignature(sha256().digest(data));
    try {
      return new DERSequence(new ASN1Encodable[] {new ASN1Integer(rs[0]), new ASN1Integer(rs[1])})
          .getEncoded(ASN1Encoding.DER);
    } catch (IOException e) {
      throw new IllegalStateException("DER encoding of two integers cannot fail", e);
    }
  }

  /**
   * Whether {@code signature} is valid for {@code data}. ECDSA signatures must be strict DER (no
   * trailing bytes, no alternative encodings), so one signature has exactly one accepted form.
   * Never throws for malformed signatures: they are simply not valid.
   */
  static boolean verify(KeyType type, CipherParameters publicKey, byte[] data, byte[] signature) {
    try {
      if (type == KeyType.ED25519) {
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, publicKey);
        verifier.update(data, 0, data.length);
        return verifier.verifySignature(signature);
      }
      if (!(ASN1Primitive.fromByteArray(signature) instanceof ASN1Sequence seq)
          || seq.size() != 2
          || !(seq.getObjectAt(0) instanceof ASN1Integer r)
          || !(seq.getObjectAt(1) instanceof ASN1Integer s)
          || !Arrays.equals(seq.getEncoded(ASN1Encoding.DER), signature)) {
        return false;
      }
      ECDSASigner verifier = new ECDSASigner();
      verifier.init(false, publicKey);
      return verifier.verifySignature(sha256().digest(data), r.getValue(), s.getValue());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  static String sha256Hex(byte[] data) {
    return HexFormat.of().formatHex(sha256().digest(data));
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK provides SHA-256", e);
    }
  }
}
