package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.ScopeStatus;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Continuous re-attestation of the processes in a {@link RuntimeStateRegistry}: each {@link
 * #tick()} spends the budget a {@link ReattestationPlanner} grants on resumable {@link CodeScan}s;
 * when a scan of a process completes, its MEMORY_CODE result (with a tracer check) and a fresh
 * MEMORY_MAP result replace those in the registry and the updated verification is returned, so the
 * caller can report drift (patched code, a library injected later) found hours after start.
 *
 * <p>Not thread-safe: one scheduler thread (the pipeline's) calls {@link #tick()}. The registry it
 * updates is thread-safe and may be read concurrently.
 */
public final class ReattestationScheduler {
  private final ProcessVerifier verifier;
  private final ProcessVerifier mapOnly;
  private final ReattestationPlanner planner;
  private final RuntimeStateRegistry registry;
  private final Clock clock;
  private final Map<Integer, CodeScan> scans = new HashMap<>();
  private final Map<Integer, Instant> lastCompleted = new HashMap<>();

  public ReattestationScheduler(
      ProcessVerifier verifier,
      ReattestationPlanner planner,
      RuntimeStateRegistry registry,
      Clock clock) {
    this.verifier = Objects.requireNonNull(verifier, "verifier");
    this.mapOnly =
        verifier.withPolicy(verifier.policy().withIntendedScopes(Set.of(Scope.MEMORY_MAP)));
    this.planner = Objects.requireNonNull(planner, "planner");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * One round: plans with the budget available now, advances the granted scans, and returns the
   * verifications updated by scans that completed in this round (also recorded in the registry).
   * Processes that exited are forgotten.
   */
  public List<ProcessVerification> tick() {
    List<ReattestationPlanner.Candidate> candidates = new ArrayList<>();
    for (ProcessVerification known : registry.snapshot()) {
      if (!known.coverage().results().containsKey(Scope.MEMORY_CODE)) {
        continue;
      }
      Instant last = lastCompleted.getOrDefault(known.pid(), known.checkedAt());
      if (!scans.containsKey(known.pid()) && !planner.due(later(last, known.checkedAt()))) {
        // Passed over (or verified) recently: not even its maps are read until it is due again.
        continue;
      }
      CodeScan scan = scanOf(known);
      if (scan == null) {
        continue;
      }
      candidates.add(
          new ReattestationPlanner.Candidate(
              known.pid(),
              known.startTicks(),
              Math.max(ReattestationPlanner.MIN_GRANT, scan.plannedBytes() - scan.bytesCompared()),
              lastCompleted.getOrDefault(known.pid(), known.checkedAt())));
    }
    List<ProcessVerification> updated = new ArrayList<>();
    for (ReattestationPlanner.Grant g : planner.plan(candidates)) {
      CodeScan scan = scans.get(g.pid());
      long used = scan.advance(g.bytes());
      planner.refund(g.bytes() - used);
      if (scan.complete()) {
        completed(g.pid(), scan).ifPresent(updated::add);
      }
    }
    return updated;
  }

  /**
   * The scan in progress for {@code known}, or a new one; null when the process is gone or cannot
   * be read now.
   */
  private CodeScan scanOf(ProcessVerification known) {
    CodeScan scan = scans.get(known.pid());
    if (scan != null && scan.startTicks() == known.startTicks()) {
      return scan;
    }
    try {
      scan = verifier.startCodeScan(known.pid());
    } catch (ProcessGoneException e) {
      forget(known.pid());
      return null;
    } catch (IOException e) {
      return null;
    }
    if (scan.startTicks() != known.startTicks()) {
      // The pid was recycled: the registered process is gone; the new one needs a full
      // VerifyProcess.
      forget(known.pid());
      return null;
    }
    scans.put(known.pid(), scan);
    return scan;
  }

  /** Records what a completed scan found; empty when there is nothing to report. */
  private Optional<ProcessVerification> completed(int pid, CodeScan scan) {
    scans.remove(pid);
    Instant now = clock.instant();
    lastCompleted.put(pid, now);
    List<Finding> findings = new ArrayList<>();
    ScopeResult code = verifier.memoryCodeResult(scan, 0, findings);
    if (code.status() != ScopeStatus.VERIFIED && exited(scan)) {
      // A re-check cut short because the process ended leaves nothing running unchecked: it is
      // forgotten, as when a pass finds the process gone before it starts, not reported.
      forget(pid);
      return Optional.empty();
    }
    ProcessVerification previous = registry.get(pid).orElse(null);
    if (previous == null || previous.startTicks() != scan.startTicks()) {
      return Optional.empty();
    }
    ProcessVerification next =
        previous.withRecheckedScope(code, findings, now, scan.bytesCompared());
    if (previous.coverage().results().containsKey(Scope.MEMORY_MAP)) {
      next = recheckMemoryMap(next, now);
    }
    registry.record(next);
    return Optional.of(next);
  }

  /**
   * MEMORY_MAP again, so a library injected (dlopen, ptrace) after the first verification is found
   * too. Cheap next to the code scan: mapped files are hashed once per identity.
   */
  private ProcessVerification recheckMemoryMap(ProcessVerification current, Instant now) {
    try {
      ProcessVerification map = mapOnly.verify(current.pid());
      if (map.startTicks() != current.startTicks()) {
        return current;
      }
      return map.scope(Scope.MEMORY_MAP)
          .map(r -> current.withRecheckedScope(r, map.findings(), now, current.codeBytesCompared()))
          .orElse(current);
    } catch (IOException e) {
      // Gone or refused: the code result just recorded already says so.
      return current;
    }
  }

  /** Whether the process {@code scan} compared has exited: gone, a zombie, or its pid reused. */
  private boolean exited(CodeScan scan) {
    try {
      return !verifier.procFs().stillRuns(scan.pid(), scan.startTicks());
    } catch (IOException e) {
      return false; // unreadable, not gone: the NOT_VERIFIED result stands and is reported
    }
  }

  private static Instant later(Instant a, Instant b) {
    return a == null ? b : b == null || a.isAfter(b) ? a : b;
  }

  /** Scans in progress (for metrics). */
  public int scansInProgress() {
    return scans.size();
  }

  private void forget(int pid) {
    scans.remove(pid);
    lastCompleted.remove(pid);
    registry.forget(pid);
  }
}
