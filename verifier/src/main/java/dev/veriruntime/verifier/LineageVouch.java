package dev.veriruntime.verifier;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What build lineage vouched with, when {@link Scope#LINEAGE} was verified for a file: the root it
 * was built in and the chain of processes from the build's root process to the writer. A plain copy
 * of the lineage record's facts, so that a verification can carry them without this package
 * depending on {@code verifier.lineage}. Immutable.
 *
 * @param root the lineage root that contains the file
 * @param chain from the build's root process to the writer (at least the writer)
 * @param writtenAt when the agent learnt of the file's final identity
 */
public record LineageVouch(String root, List<Step> chain, Instant writtenAt) {

  /**
   * One process of the chain.
   *
   * @param exePath its executable
   * @param sha256 the executable's digest; null when not known
   * @param toolchain whether it was a verified toolchain process (compiler, assembler, linker)
   */
  public record Step(String exePath, String sha256, boolean toolchain) {
    public Step {
      Objects.requireNonNull(exePath, "exePath");
    }
  }

  public LineageVouch {
    Objects.requireNonNull(root, "root");
    Objects.requireNonNull(writtenAt, "writtenAt");
    chain = List.copyOf(chain);
  }
}
