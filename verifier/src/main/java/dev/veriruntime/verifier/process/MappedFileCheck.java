package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.BinaryVerification;
import java.util.Objects;
import java.util.Optional;

/**
 * One file mapped executable into a process, as VerifyProcess checked it for MEMORY_MAP: its binary
 * verification, or why it could not be read. Immutable.
 *
 * @param path the mapped file's path as {@code /proc/PID/maps} names it
 * @param verification the file's verification (read through {@code /proc/PID/map_files}); null when
 *     it could not be read
 * @param unreadable why it could not be read; empty when it was
 */
public record MappedFileCheck(String path, BinaryVerification verification, String unreadable) {
  public MappedFileCheck {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(unreadable, "unreadable");
  }

  public Optional<BinaryVerification> checked() {
    return Optional.ofNullable(verification);
  }
}
