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
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * One live process in ListRuntimeState: what runs, and the verdict and coverage it has now. A
 * process is first known by the verification of its executable at exec (or at the start-up scan):
 * the binary scopes, with MEMORY_MAP and MEMORY_CODE {@code NOT_VERIFIED} "not yet re-attested" so
 * the verdict never claims more than was checked. Once re-attested (VerifyProcess of the running
 * process), its coverage and verdict are those of that verification. Immutable.
 *
 * <pre>{@code
 * ProcessState s = ProcessState.atExec(pid, ppid, path, identity, binaryVerification, null, deep, why);
 * s = ProcessState.reattested(processVerification, ppid, s.execCheckedAt());
 * }</pre>
 *
 * @param pid the process id
 * @param ppid the parent's pid; 0 when unknown
 * @param startTicks {@code /proc/PID/stat} field 22 when read (by re-attestation), else 0
 * @param executable path, kernel identity and SHA-256 of what runs (identity and digest null when
 *     not known)
 * @param verdict {@link Verdict#decide} of the coverage
 * @param coverage one result per intended scope, each with its reason when not VERIFIED
 * @param findings what the checks noticed, in scope order
 * @param execCheckedAt when its executable was verified (at exec, at the start-up scan, or from the
 *     cache of that file's verification); null while that verification is pending
 * @param reattestedAt when the running process itself was last verified (MEMORY_MAP, MEMORY_CODE);
 *     null when not yet re-attested
 * @param tracked whether the daemon learned of it from an exec event or the start-up scan; false
 *     for a process found only in {@code /proc} (forked without exec after start, or its exec event
 *     was lost or refused at capacity)
 * @param codeBytesCompared bytes of memory compared for MEMORY_CODE (0 before re-attestation)
 * @param incidents ids of the open incidents about this process; empty until incidents are kept
 * @param uid the real user id; -1 when not read
 * @param container the first 12 hex digits of its container id ({@link ContainerId}); empty for a
 *     process of the host or when not read
 */
public record ProcessState(
    int pid,
    int ppid,
    long startTicks,
    ProcessVerification.Executable executable,
    Verdict verdict,
    Coverage coverage,
    List<Finding> findings,
    Instant execCheckedAt,
    Instant reattestedAt,
    boolean tracked,
    long codeBytesCompared,
    List<String> incidents,
    int uid,
    String container) {

  /** The reason given for MEMORY_MAP and MEMORY_CODE of a process not yet re-attested. */
  public static final String NOT_YET_REATTESTED = "not yet re-attested (exec-time scopes only)";

  public ProcessState {
    Objects.requireNonNull(executable, "executable");
    Objects.requireNonNull(verdict, "verdict");
    Objects.requireNonNull(coverage, "coverage");
    findings = List.copyOf(findings);
    incidents = List.copyOf(incidents);
    Objects.requireNonNull(container, "container");
  }

  /** A copy with the owner read from {@code /proc}: real user id and container. */
  public ProcessState withOwner(int realUid, String containerId) {
    return new ProcessState(
        pid,
        ppid,
        startTicks,
        executable,
        verdict,
        coverage,
        findings,
        execCheckedAt,
        reattestedAt,
        tracked,
        codeBytesCompared,
        incidents,
        realUid,
        containerId);
  }

  /** Whether the running process itself has been verified (MEMORY_MAP, MEMORY_CODE). */
  public boolean reattested() {
    return reattestedAt != null;
  }

  /** The latest check of any kind; null when nothing was checked yet. */
  public Instant checkedAt() {
    return reattestedAt != null ? reattestedAt : execCheckedAt;
  }

  /**
   * A process known by its executable only.
   *
   * @param exec the verification of its executable; null when there is none (yet)
   * @param execReason why there is none: every scope in {@code execScopes} is NOT_VERIFIED with it
   * @param deepScopes the process scopes re-attestation will check (MEMORY_MAP, MEMORY_CODE); each
   *     is NOT_VERIFIED with {@code deepReason}; empty when policy intends none
   */
  public static ProcessState atExec(
      int pid,
      int ppid,
      String path,
      FileIdentity identity,
      BinaryVerification exec,
      String execReason,
      Collection<Scope> execScopes,
      Collection<Scope> deepScopes,
      String deepReason,
      boolean tracked) {
    List<ScopeResult> results = new ArrayList<>();
    if (exec != null) {
      results.addAll(exec.coverage().results().values());
    } else {
      execScopes.forEach(s -> results.add(ScopeResult.notVerified(s, execReason)));
    }
    for (Scope s : deepScopes) {
      if (results.stream().noneMatch(r -> r.scope() == s)) {
        results.add(ScopeResult.notVerified(s, deepReason));
      }
    }
    Coverage coverage = Coverage.of(results);
    // No verification yet is not "unknown to every reference": it is unchecked (DEGRADED).
    boolean known = exec == null || exec.known();
    return new ProcessState(
        pid,
        ppid,
        0,
        new ProcessVerification.Executable(
            path == null ? "" : path, identity, exec == null ? null : exec.sha256()),
        Verdict.decide(coverage, known),
        coverage,
        exec == null ? List.of() : exec.findings(),
        exec == null ? null : exec.checkedAt(),
        null,
        tracked,
        0,
        List.of(),
        -1,
        "");
  }

  /**
   * A process verified as it runs (re-attestation, or VerifyProcess in-process).
   *
   * @param execCheckedAt when its executable was verified at exec; null to use the verification's
   *     own time (VerifyProcess checks the executable too)
   */
  public static ProcessState reattested(ProcessVerification v, int ppid, Instant execCheckedAt) {
    return new ProcessState(
        v.pid(),
        ppid,
        v.startTicks(),
        v.executable(),
        v.verdict(),
        v.coverage(),
        v.findings(),
        execCheckedAt == null ? v.checkedAt() : execCheckedAt,
        v.checkedAt(),
        true,
        v.codeBytesCompared(),
        List.of(),
        v.realUid(),
        "");
  }
}
