package dev.veriruntime.agent;

import dev.veriruntime.api.VerifierCoreApi;
import dev.veriruntime.ingest.ProcScanner;
import dev.veriruntime.ingest.event.ScannedProcess;
import dev.veriruntime.pipeline.DropLedger;
import dev.veriruntime.pipeline.ExecutableCheck;
import dev.veriruntime.pipeline.ProcessTable;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.process.ProcFs;
import dev.veriruntime.verifier.process.ProcessState;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.process.RuntimeState;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The daemon's ListRuntimeState: every live user process, from the {@link ProcessTable} (fed by the
 * start-up scan and exec events) joined with the {@link RuntimeStateRegistry} (re-attestation),
 * checked against {@code /proc} at the moment of the call.
 *
 * <ul>
 *   <li>A process in the table has the check of its executable at exec (or at the scan), and
 *       MEMORY_MAP and MEMORY_CODE "not yet re-attested" until the registry holds a verification of
 *       it running that same executable; then it has that verification.
 *   <li>A process the probe let start quietly (a verified executable, see {@link QuietProcesses})
 *       is adopted into the table when listed.
 *   <li>A process in {@code /proc} but not in the table (forked without exec after start-up, an
 *       exec event lost, or refused at capacity) is read as the start-up scan reads one and listed
 *       as untracked, with its executable's cached check if there is one.
 *   <li>Kernel threads are counted, not listed. A process of the table that is no longer in {@code
 *       /proc} ended without an exit event reaching the table: it is left out and removed from the
 *       table, so the table stays bounded by live processes even without exit events.
 * </ul>
 *
 * Cost of a call: one listing of {@code /proc} and a read of each process the table does not hold
 * (mostly kernel threads). Thread safe; the table and registry are read while they change, so a
 * process that starts or ends during the call may or may not be in the answer.
 */
final class LiveRuntimeState implements VerifierCoreApi.StateSource {
  private static final String EXEC_PENDING = "exec-time verification pending";
  private static final String NOT_SEEN_AT_EXEC =
      "not seen at exec (forked without exec after start-up, or its exec event was lost):"
          + " its executable has no verification yet";

  private final ProcessTable table;
  private final RuntimeStateRegistry reattested;
  private final Function<FileIdentity, Optional<ExecutableCheck>> cachedCheck;
  private final ProcFs procFs;
  private final ProcScanner scanner;
  private final DropLedger ledger;
  private final Set<Scope> execScopes;
  private final Set<Scope> deepScopes;

  /**
   * @param cachedCheck the verification cache, read without counting a hit
   * @param execScopes the scopes verified at exec
   * @param deepScopes the scopes re-attestation adds (MEMORY_MAP, MEMORY_CODE); empty when policy
   *     turns re-attestation off, so the exec-time scopes are then all that is intended
   */
  LiveRuntimeState(
      ProcessTable table,
      RuntimeStateRegistry reattested,
      Function<FileIdentity, Optional<ExecutableCheck>> cachedCheck,
      ProcFs procFs,
      ProcScanner scanner,
      DropLedger ledger,
      Set<Scope> execScopes,
      Set<Scope> deepScopes) {
    this.table = Objects.requireNonNull(table);
    this.reattested = Objects.requireNonNull(reattested);
    this.cachedCheck = Objects.requireNonNull(cachedCheck);
    this.procFs = Objects.requireNonNull(procFs);
    this.scanner = Objects.requireNonNull(scanner);
    this.ledger = Objects.requireNonNull(ledger);
    this.execScopes = Set.copyOf(execScopes);
    this.deepScopes = Set.copyOf(deepScopes);
  }

  @Override
  public RuntimeState snapshot() throws IOException {
    // The table first: an entry it holds now whose pid the later listing lacks has really ended.
    List<ProcessTable.Entry> known = table.snapshot();
    Set<Integer> alive = new HashSet<>(procFs.pids());
    List<ProcessState> processes = new ArrayList<>(alive.size());
    Map<Integer, ProcessTable.Entry> tracked = new HashMap<>();
    for (ProcessTable.Entry e : known) {
      if (alive.contains(e.pid())) {
        tracked.put(e.pid(), e);
        processes.add(owned(state(e)));
      } else {
        table.exitedUnseen(e);
      }
    }
    int kernelThreads = 0;
    int exited = 0;
    int untracked = 0;
    for (int pid : alive) {
      if (tracked.containsKey(pid)) {
        continue;
      }
      Optional<ProcessTable.Entry> adopted = table.get(pid); // started quietly: adopted now
      if (adopted.isPresent()) {
        processes.add(state(adopted.get()));
        continue;
      }
      Optional<ScannedProcess> read;
      try {
        read = scanner.process(pid);
      } catch (IOException e) {
        read = Optional.empty(); // exists but unreadable: ending now
      }
      if (read.isPresent()
          && read.get().executable().isEmpty()
          && (read.get().ppid() == 2 || read.get().pid() == 2)) {
        kernelThreads++;
      } else if (read.isEmpty() || zombie(read.get())) {
        exited++;
      } else {
        untracked++;
        processes.add(owned(untracked(read.get())));
      }
    }
    processes.sort(Comparator.comparingInt(ProcessState::pid));
    return new RuntimeState(
        processes,
        kernelThreads,
        exited,
        untracked,
        table.capacity(),
        ledger.totals().getOrDefault(ProcessTable.TABLE_FULL, 0L));
  }

  /** With its real user id and container, as far as {@code /proc} still tells them. */
  private ProcessState owned(ProcessState p) {
    int uid = p.uid();
    if (uid < 0) {
      try {
        uid = procFs.status(p.pid()).realUid();
      } catch (IOException e) {
        uid = -1; // ending now: listed without its owner
      }
    }
    String container;
    try {
      container = procFs.container(p.pid()).orElse("");
    } catch (IOException e) {
      container = "";
    }
    return p.withOwner(uid, container);
  }

  /** A process that has ended but whose parent has not reaped it: no executable, no memory. */
  private boolean zombie(ScannedProcess p) {
    if (p.executable().isPresent()) {
      return false;
    }
    try {
      return procFs.status(p.pid()).fields().getOrDefault("State", "").startsWith("Z");
    } catch (IOException e) {
      return true; // gone by now
    }
  }

  private ProcessState state(ProcessTable.Entry e) {
    // A quietly started process was adopted without a check: its executable's is in the cache.
    ExecutableCheck check =
        e.check() != null || e.identity() == null
            ? e.check()
            : cachedCheck.apply(e.identity()).orElse(null);
    ProcessState atExec =
        ProcessState.atExec(
            e.pid(),
            e.ppid(),
            e.exePath(),
            e.identity(),
            check == null ? null : check.verification(),
            check == null ? EXEC_PENDING : check.unverifiableReason(),
            execScopes,
            deepScopes,
            ProcessState.NOT_YET_REATTESTED,
            true);
    Optional<ProcessVerification> deep =
        reattested
            .get(e.pid())
            // A verification of what this pid ran before its last exec is not about this image.
            .filter(v -> Objects.equals(v.executable().identity(), e.identity()));
    return deep.map(v -> ProcessState.reattested(v, e.ppid(), atExec.execCheckedAt()))
        .orElse(atExec);
  }

  private ProcessState untracked(ScannedProcess p) {
    if (p.executable().isEmpty()) {
      return ProcessState.atExec(
          p.pid(),
          p.ppid(),
          "",
          null,
          null,
          "its executable cannot be read",
          execScopes,
          deepScopes,
          ProcessState.NOT_YET_REATTESTED,
          false);
    }
    FileIdentity identity = p.executable().get().identity();
    Optional<ExecutableCheck> check = cachedCheck.apply(identity);
    return ProcessState.atExec(
        p.pid(),
        p.ppid(),
        p.executable().get().path(),
        identity,
        check.map(ExecutableCheck::verification).orElse(null),
        check.map(ExecutableCheck::unverifiableReason).orElse(NOT_SEEN_AT_EXEC),
        execScopes,
        deepScopes,
        ProcessState.NOT_YET_REATTESTED,
        false);
  }
}
