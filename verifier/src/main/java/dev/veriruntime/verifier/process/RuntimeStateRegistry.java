package dev.veriruntime.verifier.process;

import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The last full verification (VerifyProcess: MEMORY_MAP, MEMORY_CODE...) of each process that was
 * verified as it runs, as re-attestation records them. ListRuntimeState ({@link RuntimeState})
 * joins these with the processes known from exec events; a one-off listing is a registry of its
 * own.
 *
 * <p>Thread-safe and lock-free for readers: any number of threads may {@link #record} and {@link
 * #snapshot} concurrently. A result never replaces a newer one for the same process (same pid and
 * start time), so out-of-order completions cannot roll the state back; a result for a recycled pid
 * (another start time) always replaces the old process's.
 *
 * <pre>{@code
 * registry.record(verifier.verify(pid));
 * for (ProcessVerification p : registry.snapshot()) { ... p.verdict(), p.coverage(), p.checkedAt() ... }
 * }</pre>
 */
public final class RuntimeStateRegistry {
  private final ConcurrentMap<Integer, ProcessVerification> byPid = new ConcurrentHashMap<>();

  /** Records {@code v} unless a newer verification of the same process is already known. */
  public void record(ProcessVerification v) {
    byPid.merge(
        v.pid(),
        v,
        (old, fresh) ->
            old.startTicks() == fresh.startTicks() && old.checkedAt().isAfter(fresh.checkedAt())
                ? old
                : fresh);
  }

  /** Forgets {@code pid} (the process exited). */
  public void forget(int pid) {
    byPid.remove(pid);
  }

  /** Forgets every process whose pid is not in {@code alive}; returns how many were forgotten. */
  public int retainOnly(Collection<Integer> alive) {
    Set<Integer> keep = new HashSet<>(alive);
    int before = byPid.size();
    byPid.keySet().removeIf(pid -> !keep.contains(pid));
    return Math.max(0, before - byPid.size());
  }

  public Optional<ProcessVerification> get(int pid) {
    return Optional.ofNullable(byPid.get(pid));
  }

  /** Every known process with its last verdict, coverage and time, by ascending pid. */
  public List<ProcessVerification> snapshot() {
    return byPid.values().stream()
        .sorted(Comparator.comparingInt(ProcessVerification::pid))
        .toList();
  }

  public int size() {
    return byPid.size();
  }
}
