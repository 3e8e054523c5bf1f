package dev.veriruntime.pipeline;

import dev.veriruntime.verifier.FileIdentity;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the pipeline knows about live processes: which executable each one runs (from its exec
 * event or the start-up scan), its parent and cgroup, and the executable's digest once verified.
 * Used to name the executable behind a later mapping, anonymous executable memory or injection, to
 * apply JIT allowances by digest, and to show the parent chain. Bounded: at most {@code capacity}
 * processes (exits remove them; beyond capacity new processes are not tracked and counted).
 * Thread-safe.
 */
public final class ProcessTable {
  private final ConcurrentHashMap<Integer, Entry> byPid = new ConcurrentHashMap<>();
  private final int capacity;
  private final DropLedger ledger;

  /** One live process. {@code sha256} is null until its executable was verified. */
  public record Entry(int pid, int ppid, String exePath, FileIdentity identity, long cgroupId, String comm, String sha256) {
    Entry withSha256(String digest) {
      return new Entry(pid, ppid, exePath, identity, cgroupId, comm, digest);
    }
  }

  public ProcessTable(int capacity, DropLedger ledger) {
    this.capacity = capacity;
    this.ledger = ledger;
  }

  public void started(Entry e) {
    if (byPid.size() >= capacity && !byPid.containsKey(e.pid())) {
      ledger.increment("stage.track.table_full");
      return;
    }
    byPid.put(e.pid(), e);
  }

  /** Records the digest of the executable a process runs, if it still runs that identity. */
  public void verified(int pid, FileIdentity identity, String sha256) {
    byPid.computeIfPresent(pid, (k, e) -> identity.equals(e.identity()) ? e.withSha256(sha256) : e);
  }

  public void exited(int pid) {
    byPid.remove(pid);
  }

  public Optional<Entry> get(int pid) {
    return Optional.ofNullable(byPid.get(pid));
  }

  /** Executable paths from the parent up, at most {@code depth} steps (cycle-safe). */
  public List<String> parentChain(int pid, int depth) {
    List<String> chain = new ArrayList<>();
    Entry e = byPid.get(pid);
    for (int i = 0; e != null && i < depth && e.ppid() > 0 && e.ppid() != e.pid(); i++) {
      e = byPid.get(e.ppid());
      if (e != null) {
        chain.add(e.exePath());
      }
    }
    return chain;
  }

  public int size() {
    return byPid.size();
  }

  public List<Entry> snapshot() {
    return List.copyOf(byPid.values());
  }
}
