package dev.veriruntime.verifier.lineage;

import java.util.Objects;

/**
 * One process in the chain that produced a file, from the build's root (make, ninja, cargo...) to
 * the toolchain process that wrote it.
 *
 * @param pid process id at the time (a hint for the journal, never an identity)
 * @param exePath the executable the kernel reported for its exec
 * @param sha256 the executable's verified digest, or {@code null} when it was not known
 * @param toolchain whether the kernel reported this process as a toolchain process
 */
public record BuildStep(int pid, String exePath, String sha256, boolean toolchain) {
  public BuildStep {
    Objects.requireNonNull(exePath, "exePath");
  }

  /** The executable's file name, for a one-line chain. */
  public String name() {
    int slash = exePath.lastIndexOf('/');
    return slash < 0 ? exePath : exePath.substring(slash + 1);
  }
}
