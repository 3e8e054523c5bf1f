package dev.veriruntime.verifier.reference;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.util.HexFormat;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The BouncyCastle provider used for every signature operation, plus the algorithm-identifier
 * checks shared by public and private keys. The provider instance is passed explicitly instead of
 * being installed with {@code Security.addProvider}, so nothing else in the JVM changes behaviour.
 */
final class Crypto {
  /**
   * Built on first use only: constructing the provider costs hundreds of milliseconds at start-up.
   */
  private static final class Holder {
    static final Provider BC = new BouncyCastleProvider();
  }

  static final ASN1ObjectIdentifier ID_ED25519 = new ASN1ObjectIdentifier("1.3.101.112");
  static final ASN1ObjectIdentifier ID_EC_PUBLIC_KEY =
      new ASN1ObjectIdentifier("1.2.840.10045.2.1");
  static final ASN1ObjectIdentifier PRIME256V1 = new ASN1ObjectIdentifier("1.2.840.10045.3.1.7");

  private Crypto() {}

  static Provider bc() {
    return Holder.BC;
  }

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
