package dev.veriruntime.verifier.reference;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;

/** Reads and writes single-object PEM files (RFC 7468) for keys. */
final class PemFiles {
  /** Key files are tiny; anything larger is not a key and is not read into memory. */
  private static final int MAX_KEY_FILE = 64 * 1024;

  private PemFiles() {}

  /**
   * The DER bytes of the first PEM object in {@code file}, which must have the given label.
   *
   * @throws ReferenceException of kind KEY_INVALID if the file is missing, unreadable, not PEM, or
   *     holds another kind of object
   */
  static byte[] read(Path file, String label) throws ReferenceException {
    String text = readText(file);
    PemObject pem;
    try (Reader r = new StringReader(text);
        PemReader reader = new PemReader(r)) {
      pem = reader.readPemObject();
    } catch (IOException | RuntimeException e) {
      throw keyInvalid("key file " + file + " is not valid PEM: " + e.getMessage());
    }
    if (pem == null) {
      throw keyInvalid(
          "key file " + file + " holds no PEM object (expected -----BEGIN " + label + "-----)");
    }
    if (!label.equals(pem.getType())) {
      throw keyInvalid(
          "key file "
              + file
              + " holds a '"
              + pem.getType()
              + "' PEM object, expected '"
              + label
              + "'");
    }
    return pem.getContent();
  }

  private static String readText(Path file) throws ReferenceException {
    try {
      if (Files.isDirectory(file)) {
        throw keyInvalid("key file " + file + " is a directory");
      }
      byte[] bytes = ReferenceLoader.readAtMost(file, MAX_KEY_FILE);
      if (bytes == null) {
        throw keyInvalid(
            "key file " + file + " is larger than " + MAX_KEY_FILE + " bytes: not a key");
      }
      return new String(bytes, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw keyInvalid("key file " + file + " does not exist");
    } catch (AccessDeniedException e) {
      throw keyInvalid("key file " + file + " cannot be read: permission denied");
    } catch (IOException e) {
      throw keyInvalid("key file " + file + " cannot be read: " + e.getMessage());
    }
  }

  static String encode(String label, byte[] der) {
    StringWriter out = new StringWriter();
    try (PemWriter writer = new PemWriter(out)) {
      writer.writeObject(new PemObject(label, der));
    } catch (IOException e) {
      throw new IllegalStateException("writing to a StringWriter cannot fail", e);
    }
    return out.toString();
  }

  /**
   * Writes a new PEM file; refuses to replace an existing one, so a key is never overwritten by
   * accident.
   *
   * @param privateFile create with mode 0600 (set at creation, so the key is never readable by
   *     others)
   * @throws java.nio.file.FileAlreadyExistsException if {@code file} exists
   */
  static void writeNew(Path file, String label, byte[] der, boolean privateFile)
      throws IOException {
    if (privateFile) {
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } else {
      Files.createFile(file);
    }
    Files.writeString(
        file, encode(label, der), StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
  }

  private static ReferenceException keyInvalid(String message) {
    return new ReferenceException(ReferenceException.Kind.KEY_INVALID, message);
  }
}
