package dev.veriruntime.agent;

import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.process.CodeScan;
import dev.veriruntime.verifier.process.ProcessVerifier;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Re-checks the agent's own process a few hundred times when the agent starts, as a re-attestation
 * round re-checks every known process once a minute (MEMORY_MAP, then the start of a MEMORY_CODE
 * scan), on a thread of its own at the lowest priority, and throws the results away. Once a minute
 * is too seldom for the JIT: for its first hours an agent otherwise runs its rounds in the
 * interpreter, 0.07-0.13 CPU s a round on a host with a handful of processes, followed by the
 * compilations a round queues (benchmarks/README.md, "Re-attestation rounds: a warm path").
 *
 * <p>The runs share the live verifier's cache of mapped-file verifications (by file identity): the
 * agent's own libraries verified here are cache hits when another process of the same runtime is
 * re-checked. They touch no registry, no metric and no sink. {@code reattestation.warm-up-runs: 0}
 * turns it off.
 */
final class ProcessWarmUp extends WarmUp {
  /** Memory compared per run: the scan's set-up and a little of its comparison, not the whole. */
  static final long CODE_BYTES_PER_RUN = 64 << 10;

  private final ProcessVerifier verifier;
  private final ProcessVerifier mapOnly;
  private final int pid;
  private final int runs;
  private final PrintStream err;

  private ProcessWarmUp(ProcessVerifier verifier, int pid, int runs, PrintStream err) {
    super("veriruntime-warm-up-processes");
    this.verifier = verifier;
    this.mapOnly =
        verifier.withPolicy(verifier.policy().withIntendedScopes(Set.of(Scope.MEMORY_MAP)));
    this.pid = pid;
    this.runs = runs;
    this.err = err;
  }

  /** Starts {@code runs} re-checks of process {@code pid} (the agent's own) in the background. */
  static ProcessWarmUp start(ProcessVerifier verifier, int pid, int runs, PrintStream err) {
    ProcessWarmUp w = new ProcessWarmUp(verifier, pid, runs, err);
    w.start();
    return w;
  }

  @Override
  void work() {
    List<Finding> findings = new ArrayList<>();
    repeat(
        "re-attestation",
        runs,
        "process " + pid,
        () -> {
          mapOnly.verify(pid);
          CodeScan scan = verifier.startCodeScan(pid);
          scan.advance(CODE_BYTES_PER_RUN);
          verifier.memoryCodeResult(scan, 0, findings);
          findings.clear();
        },
        err);
  }
}
