package dev.veriruntime.verifier.lineage;

import dev.veriruntime.verifier.FileIdentity;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A regular file as a verified toolchain process left it: its final kernel identity (device, inode,
 * change time, size) when the writer was done, and the chain of processes that produced it.
 * Immutable.
 *
 * <p>The identity is the whole claim: any later write, truncation, {@code chmod} or rename by
 * anything changes the change time, so the record no longer matches the file and its lineage is
 * void. A copy is another inode and never had a record.
 *
 * @param identity the file's identity when the writer finished (exit of the writer process)
 * @param path the path the writer opened, relative to its mount namespace's root (a hint)
 * @param chain from the build's root process to the writer, at least the writer itself
 * @param writtenAt when the agent learnt of the final identity
 */
public record LineageRecord(
    FileIdentity identity, String path, List<BuildStep> chain, Instant writtenAt) {

  public LineageRecord {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(writtenAt, "writtenAt");
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a lineage chain names at least the writer");
    }
  }

  /** The process that wrote the file: the last step of the chain. */
  public BuildStep writer() {
    return chain.get(chain.size() - 1);
  }

  /** The chain as one line of executable names: {@code make → gcc → collect2 → ld}. */
  public String describeChain() {
    return chain.stream().map(BuildStep::name).collect(Collectors.joining(" → "));
  }

  /** Executable path to digest of every toolchain process in the chain, in chain order. */
  public Map<String, String> toolchainDigests() {
    Map<String, String> digests = new LinkedHashMap<>();
    for (BuildStep s : chain) {
      if (s.toolchain() && s.sha256() != null) {
        digests.put(s.exePath(), s.sha256());
      }
    }
    return digests;
  }

  /** Whether {@code other} is the same inode (device and inode number), changed or not. */
  public boolean sameInode(FileIdentity other) {
    return identity.dev() == other.dev() && identity.inode() == other.inode();
  }
}
