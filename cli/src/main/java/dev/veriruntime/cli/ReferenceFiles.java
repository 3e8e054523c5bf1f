package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.veriruntime.verifier.reference.LoadedStatement;
import dev.veriruntime.verifier.reference.ReferenceException;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import dev.veriruntime.verifier.reference.TrustedKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading and writing the files the {@code refs} commands and the verify commands share: trusted
 * keys, reference files, and output files replaced atomically. Every failure is a {@link
 * CliException} with the exit code docs/references.md gives it.
 */
final class ReferenceFiles {
  private static final ObjectWriter COMPACT = new ObjectMapper().writer();

  private ReferenceFiles() {}

  /** The public keys in {@code files}; refused with {@link ExitCodes#KEY_INVALID} and the like. */
  static TrustedKeys trustedKeys(List<Path> files) {
    try {
      return TrustedKeys.load(files);
    } catch (ReferenceException e) {
      throw ExitCodes.failure(e);
    }
  }

  /** Every statement in {@code file}, read under {@code policy} with these trusted keys. */
  static List<LoadedStatement> load(Path file, List<Path> keys, SignaturePolicy policy) {
    try {
      return new ReferenceLoader(trustedKeys(keys), policy).load(file);
    } catch (ReferenceException e) {
      throw ExitCodes.failure(e);
    }
  }

  /**
   * Adds {@code documents} (envelopes) to the reference file {@code target}, creating it if need
   * be, and rewrites it as JSON Lines; a document already there is not added twice.
   *
   * @return how many documents were added
   */
  static int mergeInto(Path target, List<JsonNode> documents) {
    List<JsonNode> all = new ArrayList<>();
    try {
      if (Files.exists(target)) {
        all.addAll(ReferenceLoader.readDocuments(target));
      }
    } catch (ReferenceException e) {
      throw ExitCodes.failure(e);
    }
    int added = 0;
    for (JsonNode d : documents) {
      if (!all.contains(d)) {
        all.add(d);
        added++;
      }
    }
    StringBuilder lines = new StringBuilder();
    try {
      for (JsonNode d : all) {
        lines.append(COMPACT.writeValueAsString(d)).append('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    writeAtomically(target, lines.toString().getBytes(StandardCharsets.UTF_8));
    return added;
  }

  /**
   * Fails early, before long work, when {@code target} cannot be an output file: it is a directory,
   * or its directory does not exist.
   */
  static void checkWritable(Path target) {
    Path abs = target.toAbsolutePath();
    if (Files.isDirectory(abs)) {
      throw new CliException(
          ExitCodes.OUTPUT_UNWRITABLE, "cannot write " + target + ": it is a directory");
    }
    Path parent = abs.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new CliException(
          ExitCodes.OUTPUT_UNWRITABLE,
          "cannot write " + target + ": directory " + parent + " does not exist");
    }
  }

  /**
   * Write to a temporary file beside {@code target}, then rename: readers never see half a file.
   */
  static void writeAtomically(Path target, byte[] bytes) {
    Path abs = target.toAbsolutePath();
    Path tmp = null;
    try {
      checkWritable(target);
      // createTempFile alone would make the file 0600; an envelope is public, so 0644 less umask.
      tmp =
          Files.createTempFile(
              abs.getParent(),
              "." + abs.getFileName(),
              ".tmp",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
      Files.write(tmp, bytes);
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the original error is the one worth reporting
        }
      }
      throw new CliException(
          ExitCodes.OUTPUT_UNWRITABLE, "cannot write " + target + ": " + IoErrors.describe(e));
    }
  }
}
