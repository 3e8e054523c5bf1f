package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.Verdict;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer of {@link ProcessVerifier} (VerifyProcess) for one process. Immutable.
 *
 * @param pid the process id
 * @param startTicks the process's start time in clock ticks since boot ({@code /proc/PID/stat}
 *     field 22); with {@code pid} it names the process across pid reuse (0 if never read)
 * @param verdict {@link Verdict#decide} of the coverage
 * @param executable what runs: path, kernel identity, SHA-256
 * @param coverage one result per intended scope, with the reason for each that is not VERIFIED
 * @param findings what the checks noticed, in scope order
 * @param checkedAt when the verification started, from the verifier's clock
 * @param codeBytesCompared bytes of memory compared for {@link Scope#MEMORY_CODE}
 * @param executableKnown whether a reference knows the executable (by digest or path), or its
 *     digest could not be read at all; false makes the verdict UNKNOWN unless something FAILED
 * @param executableVerification the executable's own verification (what vouched for it); null when
 *     it could not be read, or for a copy made without it
 * @param mappedFiles the other files mapped executable, each as MEMORY_MAP checked it, in the order
 *     first seen in the maps; empty when MEMORY_MAP was not checked
 * @param realUid the process's real user id ({@code /proc/PID/status} {@code Uid}); -1 when unread
 */
public record ProcessVerification(
    int pid,
    long startTicks,
    Verdict verdict,
    Executable executable,
    Coverage coverage,
    List<Finding> findings,
    Instant checkedAt,
    long codeBytesCompared,
    boolean executableKnown,
    BinaryVerification executableVerification,
    List<MappedFileCheck> mappedFiles,
    int realUid) {

  public ProcessVerification {
    Objects.requireNonNull(verdict, "verdict");
    Objects.requireNonNull(executable, "executable");
    Objects.requireNonNull(coverage, "coverage");
    Objects.requireNonNull(checkedAt, "checkedAt");
    findings = List.copyOf(findings);
    mappedFiles = List.copyOf(mappedFiles);
  }

  /**
   * A verification without the trust chain's details (what vouched, the mapped files, the user).
   */
  public ProcessVerification(
      int pid,
      long startTicks,
      Verdict verdict,
      Executable executable,
      Coverage coverage,
      List<Finding> findings,
      Instant checkedAt,
      long codeBytesCompared,
      boolean executableKnown) {
    this(
        pid,
        startTicks,
        verdict,
        executable,
        coverage,
        findings,
        checkedAt,
        codeBytesCompared,
        executableKnown,
        null,
        List.of(),
        -1);
  }

  /**
   * The executable that runs, as read through {@code /proc/PID/exe}.
   *
   * @param path its path without {@code " (deleted)"}, or a {@code /memfd:} name; empty if
   *     unreadable
   * @param identity device, inode, change time and size of the inode that runs; null if unreadable
   * @param sha256 lowercase hex SHA-256 of its bytes; null if unreadable
   */
  public record Executable(String path, FileIdentity identity, String sha256) {
    public Executable {
      Objects.requireNonNull(path, "path");
    }
  }

  public Optional<ScopeResult> scope(Scope scope) {
    return coverage.get(scope);
  }

  /**
   * A copy in which {@code result}'s scope was re-checked at {@code at}: its result and findings
   * replace the old ones and the verdict is decided again. Used by re-attestation, which re-checks
   * MEMORY_CODE of long-running processes without redoing the other scopes.
   */
  public ProcessVerification withRecheckedScope(
      ScopeResult result, List<Finding> scopeFindings, Instant at, long bytesCompared) {
    Coverage updated = coverage.with(result);
    List<Finding> merged = new ArrayList<>();
    findings.stream().filter(f -> f.scope() != result.scope()).forEach(merged::add);
    scopeFindings.stream().filter(f -> f.scope() == result.scope()).forEach(merged::add);
    merged.sort(Comparator.comparing(Finding::scope));
    return new ProcessVerification(
        pid,
        startTicks,
        Verdict.decide(updated, executableKnown),
        executable,
        updated,
        merged,
        at,
        bytesCompared,
        executableKnown,
        executableVerification,
        mappedFiles,
        realUid);
  }
}
