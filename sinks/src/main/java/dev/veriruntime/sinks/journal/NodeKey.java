package dev.veriruntime.sinks.journal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * The node's Ed25519 key that signs journal checkpoints and the journal head. Created on first
 * start under {@code <stateDir>/keys/}: {@code node.ed25519} holds the 32-byte private seed with
 * mode 0600 (created with that mode, never readable by others even briefly), {@code
 * node.ed25519.pub} the public key in hex. Immutable and thread-safe once loaded.
 */
public final class NodeKey {
  /** File name of the private key inside the key directory. */
  public static final String PRIVATE_FILE = "node.ed25519";

  /** File name of the public key (hex, one line) inside the key directory. */
  public static final String PUBLIC_FILE = "node.ed25519.pub";

  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  private final Ed25519PrivateKeyParameters privateKey;
  private final Ed25519PublicKeyParameters publicKey;

  private NodeKey(Ed25519PrivateKeyParameters privateKey) {
    this.privateKey = privateKey;
    this.publicKey = privateKey.generatePublicKey();
  }

  /**
   * Loads the key from {@code keyDir}, creating it (and the directory, mode 0700) if absent. A
   * private key file with a mode wider than 0600 is narrowed back to 0600.
   *
   * @throws IOException if the files cannot be read or written, or the key file is not 32 bytes
   */
  public static NodeKey loadOrCreate(Path keyDir) throws IOException {
    Files.createDirectories(
        keyDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path priv = keyDir.resolve(PRIVATE_FILE);
    NodeKey key;
    if (Files.exists(priv)) {
      byte[] seed = Files.readAllBytes(priv);
      if (seed.length != Ed25519PrivateKeyParameters.KEY_SIZE) {
        throw new IOException(priv + " is not a 32-byte Ed25519 seed (" + seed.length + " bytes)");
      }
      if (!Files.getPosixFilePermissions(priv).equals(OWNER_ONLY)) {
        Files.setPosixFilePermissions(priv, OWNER_ONLY);
      }
      key = new NodeKey(new Ed25519PrivateKeyParameters(seed, 0));
    } else {
      key = new NodeKey(new Ed25519PrivateKeyParameters(new SecureRandom()));
      try {
        // Created empty with mode 0600 first, so the secret never exists in a wider-mode file.
        Files.createFile(priv, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      } catch (FileAlreadyExistsException raced) {
        return loadOrCreate(keyDir);
      }
      Files.write(
          priv,
          key.privateKey.getEncoded(),
          StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE,
          StandardOpenOption.SYNC);
    }
    Path pub = keyDir.resolve(PUBLIC_FILE);
    String hex = key.publicKeyHex() + "\n";
    if (!Files.exists(pub) || !Files.readString(pub, StandardCharsets.US_ASCII).equals(hex)) {
      Files.writeString(pub, hex, StandardCharsets.US_ASCII);
    }
    return key;
  }

  /**
   * Reads a public key file written by {@link #loadOrCreate} (hex, surrounding whitespace ignored).
   *
   * @throws IOException if unreadable or not a 32-byte hex key
   */
  public static byte[] readPublicKey(Path file) throws IOException {
    String hex = Files.readString(file, StandardCharsets.US_ASCII).strip();
    try {
      byte[] key = HexFormat.of().parseHex(hex);
      if (key.length != Ed25519PublicKeyParameters.KEY_SIZE) {
        throw new IOException(file + ": not a 32-byte Ed25519 public key");
      }
      return key;
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": not hex", e);
    }
  }

  public String publicKeyHex() {
    return HexFormat.of().formatHex(publicKey.getEncoded());
  }

  /** Ed25519 signature over {@code message}. */
  public byte[] sign(String message) {
    Ed25519Signer signer = new Ed25519Signer();
    signer.init(true, privateKey);
    byte[] m = message.getBytes(StandardCharsets.UTF_8);
    signer.update(m, 0, m.length);
    return signer.generateSignature();
  }

  /**
   * Whether {@code signature} is a valid Ed25519 signature of {@code message} by {@code publicKey}.
   */
  public static boolean verify(byte[] publicKey, String message, byte[] signature) {
    if (publicKey.length != Ed25519PublicKeyParameters.KEY_SIZE
        || signature.length != Ed25519PrivateKeyParameters.SIGNATURE_SIZE) {
      return false;
    }
    Ed25519Signer verifier = new Ed25519Signer();
    verifier.init(false, new Ed25519PublicKeyParameters(publicKey, 0));
    byte[] m = message.getBytes(StandardCharsets.UTF_8);
    verifier.update(m, 0, m.length);
    return verifier.verifySignature(signature);
  }
}
