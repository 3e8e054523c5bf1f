package dev.veriruntime.pipeline;

import dev.veriruntime.verifier.FileIdentity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * What the pipeline knows about live processes: which executable each one runs (from its exec event
 * or the start-up scan), its parent and cgroup, and the executable's digest once verified. Used to
 * name the executable behind a later mapping, anonymous executable memory or injection, to apply
 * JIT allowances by digest, and to show the parent chain. Bounded: at most {@code capacity}
 * processes (exits remove them; beyond capacity new processes are not tracked and counted).
 *
 * <p>An exited process stays answerable through {@link #get} and {@link #parentChain} for a short
 * grace period (at most {@value #DEPARTED_CAPACITY} of them): verification runs concurrently, so a
 * process's ptrace, mmap or parent lookup may be classified after its exit event already went
 * through, and a short-lived attacher must still be named by its executable. A new exec of the same
 * pid ends the grace at once. Thread-safe.
 */
public final class ProcessTable {
  private final ConcurrentHashMap<Integer, Entry> byPid = new ConcurrentHashMap<>();
  private final int capacity;
  private final DropLedger ledger;
  private final long graceNanos;
  private final LongSupplier nanoTime;

  /** Recently exited processes, oldest first; guarded by itself. */
  private final LinkedHashMap<Integer, Departed> departed =
      new LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Departed> eldest) {
          return size() > DEPARTED_CAPACITY;
        }
      };

  static final int DEPARTED_CAPACITY = 4096;
  static final Duration DEPARTED_GRACE = Duration.ofSeconds(10);

  private record Departed(Entry entry, long exitedNanos) {}

  /** One live process. {@code sha256} is null until its executable was verified. */
  public record Entry(
      int pid,
      int ppid,
      String exePath,
      FileIdentity identity,
      long cgroupId,
      String comm,
      String sha256) {
    Entry withSha256(String digest) {
      return new Entry(pid, ppid, exePath, identity, cgroupId, comm, digest);
    }
  }

  public ProcessTable(int capacity, DropLedger ledger) {
    this(capacity, ledger, DEPARTED_GRACE, System::nanoTime);
  }

  ProcessTable(int capacity, DropLedger ledger, Duration grace, LongSupplier nanoTime) {
    this.capacity = capacity;
    this.ledger = ledger;
    this.graceNanos = grace.toNanos();
    this.nanoTime = nanoTime;
  }

  public void started(Entry e) {
    synchronized (departed) {
      departed.remove(e.pid());
    }
    if (byPid.size() >= capacity && !byPid.containsKey(e.pid())) {
      ledger.increment("stage.track.table_full");
      return;
    }
    byPid.put(e.pid(), e);
  }

  /** Records the digest of the executable a process runs, if it still runs that identity. */
  public void verified(int pid, FileIdentity identity, String sha256) {
    byPid.computeIfPresent(pid, (k, e) -> identity.equals(e.identity()) ? e.withSha256(sha256) : e);
    synchronized (departed) {
      departed.computeIfPresent(
          pid,
          (k, d) ->
              identity.equals(d.entry().identity())
                  ? new Departed(d.entry().withSha256(sha256), d.exitedNanos())
                  : d);
    }
  }

  public void exited(int pid) {
    Entry gone = byPid.remove(pid);
    if (gone != null) {
      synchronized (departed) {
        departed.put(pid, new Departed(gone, nanoTime.getAsLong()));
      }
    }
  }

  /** The live process, or one that exited within the grace period. */
  public Optional<Entry> get(int pid) {
    return Optional.ofNullable(lookup(pid));
  }

  private Entry lookup(int pid) {
    Entry live = byPid.get(pid);
    if (live != null) {
      return live;
    }
    synchronized (departed) {
      Departed d = departed.get(pid);
      if (d == null) {
        return null;
      }
      if (nanoTime.getAsLong() - d.exitedNanos() > graceNanos) {
        departed.remove(pid); // a pid reused by a fork without exec must not inherit the old name
        return null;
      }
      return d.entry();
    }
  }

  /** Executable paths from the parent up, at most {@code depth} steps (cycle-safe). */
  public List<String> parentChain(int pid, int depth) {
    List<String> chain = new ArrayList<>();
    Entry e = lookup(pid);
    for (int i = 0; e != null && i < depth && e.ppid() > 0 && e.ppid() != e.pid(); i++) {
      e = lookup(e.ppid());
      if (e != null) {
        chain.add(e.exePath());
      }
    }
    return chain;
  }

  /**
   * The process and its ancestors, the process first, at most {@code depth} entries (cycle-safe);
   * empty when the process is not known.
   */
  public List<Entry> ancestry(int pid, int depth) {
    List<Entry> line = new ArrayList<>();
    Entry e = lookup(pid);
    while (e != null && line.size() < depth) {
      line.add(e);
      if (e.ppid() <= 0 || e.ppid() == e.pid()) {
        break;
      }
      e = lookup(e.ppid());
    }
    return line;
  }

  /** Live processes only. */
  public int size() {
    return byPid.size();
  }

  /** Live processes only. */
  public List<Entry> snapshot() {
    return List.copyOf(byPid.values());
  }
}
