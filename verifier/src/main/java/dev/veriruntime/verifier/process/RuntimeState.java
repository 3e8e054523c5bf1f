package dev.veriruntime.verifier.process;

import java.util.List;

/**
 * The answer of ListRuntimeState: every live user-space process with its verdict and coverage now,
 * and what was counted rather than listed. Immutable.
 *
 * @param processes by ascending pid
 * @param kernelThreads kernel threads seen in {@code /proc}: counted, never listed (no executable,
 *     no user memory)
 * @param exitedWhileListing processes that ended while the listing read them (left out)
 * @param untracked processes listed that the state table does not hold (forked without exec after
 *     start-up, an exec event lost, or refused at capacity): listed with their executable's cached
 *     verdict, never re-attested
 * @param capacity the most processes the state table holds; 0 when unbounded (a one-off listing)
 * @param refusedAtCapacity processes the table refused since start because it was full
 */
public record RuntimeState(
    List<ProcessState> processes,
    int kernelThreads,
    int exitedWhileListing,
    int untracked,
    int capacity,
    long refusedAtCapacity) {

  public RuntimeState {
    processes = List.copyOf(processes);
  }

  /** A one-off listing (no table behind it), for example VerifyProcess of every pid in-process. */
  public static RuntimeState listing(
      List<ProcessState> processes, int kernelThreads, int exitedWhileListing) {
    return new RuntimeState(processes, kernelThreads, exitedWhileListing, 0, 0, 0);
  }
}
