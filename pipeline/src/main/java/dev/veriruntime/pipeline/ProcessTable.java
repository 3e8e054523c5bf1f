package dev.veriruntime.pipeline;

import dev.veriruntime.verifier.FileIdentity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * What the pipeline knows about live processes: which executable each one runs (from its exec event
 * or the start-up scan), its parent and cgroup, and the executable's digest once verified. Used to
 * name the executable behind a later mapping, anonymous executable memory or injection, to apply
 * JIT allowances by digest, to show the parent chain, and to answer ListRuntimeState (each entry
 * keeps the {@link ExecutableCheck} of its executable, shared with the verification cache).
 * Bounded: at most {@code capacity} processes (exits remove them; beyond capacity new processes are
 * not tracked and counted in the ledger as {@code stage.track.table_full}, which the drop reporter
 * reports as VERIFICATION_DEGRADED and Health shows).
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

  /** The ledger place of processes refused because the table was full. */
  public static final String TABLE_FULL = "stage.track.table_full";

  /**
   * The daemon's bound: more than the 32,768 pids of Linux's default {@code pid_max}; about 300
   * bytes per process (path, identity, comm; the check is shared), so at most about 20 MB.
   */
  public static final int DEFAULT_CAPACITY = 1 << 16;

  static final int DEPARTED_CAPACITY = 4096;
  static final Duration DEPARTED_GRACE = Duration.ofSeconds(10);

  private record Departed(Entry entry, long exitedNanos) {}

  /**
   * One live process. {@code sha256} is null until its executable was verified; {@code check} is
   * null until its executable's check completed (verified or not).
   */
  public record Entry(
      int pid,
      int ppid,
      String exePath,
      FileIdentity identity,
      long cgroupId,
      String comm,
      String sha256,
      ExecutableCheck check) {

    /** A process whose executable was not checked yet. */
    public Entry(
        int pid,
        int ppid,
        String exePath,
        FileIdentity identity,
        long cgroupId,
        String comm,
        String sha256) {
      this(pid, ppid, exePath, identity, cgroupId, comm, sha256, null);
    }

    Entry withSha256(String digest) {
      return new Entry(pid, ppid, exePath, identity, cgroupId, comm, digest, check);
    }

    Entry withCheck(ExecutableCheck c) {
      return new Entry(
          pid,
          ppid,
          exePath,
          identity,
          cgroupId,
          comm,
          c.verified() ? c.verification().sha256() : sha256,
          c);
    }
  }

  /**
   * Finds a process the table never heard of because the probe let it start quietly (its exec
   * record was filtered in the kernel): reads it from {@code /proc} so that parent chains and
   * events about it name it. Must be thread-safe and must not throw.
   */
  @FunctionalInterface
  public interface Adopter {
    Adopter NONE = pid -> Optional.empty();

    Optional<Entry> adopt(int pid);

    /**
     * A live process that is neither in the table nor adoptable: one that forked without an exec (a
     * subshell, a server's worker, the session process an SSH daemon forks), which runs its
     * parent's executable and of which the probe reports neither start nor exit. Not kept in the
     * table, since no exit would ever remove it (an implementation may reuse a read for a moment).
     * Empty by default.
     */
    default Optional<Entry> peek(int pid) {
      return Optional.empty();
    }
  }

  private volatile Adopter adopter = Adopter.NONE;

  /** Where {@link #get}, {@link #parentChain} and {@link #ancestry} look for unknown pids. */
  public void adoptUnknownWith(Adopter adopter) {
    this.adopter = Objects.requireNonNull(adopter, "adopter");
  }

  public ProcessTable(int capacity, DropLedger ledger) {
    this(capacity, ledger, DEPARTED_GRACE);
  }

  /** As above, departed processes answerable for {@code grace} (the agent's warm-up: zero). */
  public ProcessTable(int capacity, DropLedger ledger, Duration grace) {
    this(capacity, ledger, grace, System::nanoTime);
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
      ledger.increment(TABLE_FULL);
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

  /**
   * Records the check of the executable a process runs (and its digest when verified), if it still
   * runs that identity.
   */
  public void checked(int pid, ExecutableCheck c) {
    byPid.computeIfPresent(
        pid, (k, e) -> Objects.equals(c.identity(), e.identity()) ? e.withCheck(c) : e);
    if (c.verified()) {
      // Also names the digest of a process that exited meanwhile (within its grace period).
      verified(pid, c.identity(), c.verification().sha256());
    }
  }

  public void exited(int pid) {
    Entry gone = byPid.remove(pid);
    if (gone != null) {
      depart(gone);
    }
  }

  /**
   * Keeps {@code gone} answerable for the grace period, and forgets the departed whose grace ended
   * (oldest first): otherwise the last 4,096 exits of a host stayed in the heap however long ago
   * they were.
   */
  private void depart(Entry gone) {
    long now = nanoTime.getAsLong();
    synchronized (departed) {
      departed.remove(gone.pid()); // re-inserted last: the map stays in order of exit
      departed.put(gone.pid(), new Departed(gone, now));
      for (Iterator<Departed> it = departed.values().iterator(); it.hasNext(); ) {
        if (now - it.next().exitedNanos() <= graceNanos) {
          break;
        }
        it.remove();
      }
    }
  }

  /**
   * {@code e}'s process ended without an exit event (the exit tracepoint is not attached, or the
   * event was lost): it is removed as {@link #exited} would, unless its pid has since been taken by
   * another entry. Returns whether it was removed.
   */
  public boolean exitedUnseen(Entry e) {
    if (!byPid.remove(e.pid(), e)) {
      return false;
    }
    depart(e);
    return true;
  }

  /**
   * Whether the table saw {@code pid}, running {@code identity}, exit (its exit event went through
   * within the grace period and its pid was not reused since). False means "not known", not "still
   * runs".
   */
  public boolean sawExit(int pid, FileIdentity identity) {
    if (byPid.containsKey(pid)) {
      return false;
    }
    synchronized (departed) {
      Departed d = departed.get(pid);
      return d != null && Objects.equals(d.entry().identity(), identity);
    }
  }

  /** The most processes tracked at once. */
  public int capacity() {
    return capacity;
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
      if (d != null) {
        if (nanoTime.getAsLong() - d.exitedNanos() <= graceNanos) {
          return d.entry();
        }
        departed.remove(pid); // a pid reused by a fork without exec must not inherit the old name
      }
    }
    Entry adopted = pid > 0 ? adopter.adopt(pid).orElse(null) : null;
    if (adopted != null) {
      started(adopted);
    }
    return adopted;
  }

  /**
   * As {@link #lookup}, and for a live process it neither knows nor can adopt, what {@link
   * Adopter#peek} reads (not kept).
   */
  private Entry lookupOrPeek(int pid) {
    Entry known = lookup(pid);
    return known != null || pid <= 0 ? known : adopter.peek(pid).orElse(null);
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
    return ancestry(pid, depth, this::lookup);
  }

  /**
   * As {@link #ancestry}, going on through live processes that forked without an exec, read by
   * {@link Adopter#peek} (not kept in the table): for events, whose chains are built seldom. Build
   * lineage keeps to {@link #ancestry}: its chains are built for every toolchain write of a build.
   */
  public List<Entry> ancestryThroughForks(int pid, int depth) {
    return ancestry(pid, depth, this::lookupOrPeek);
  }

  private List<Entry> ancestry(int pid, int depth, IntFunction<Entry> find) {
    List<Entry> line = new ArrayList<>();
    Entry e = find.apply(pid);
    while (e != null && line.size() < depth) {
      line.add(e);
      if (e.ppid() <= 0 || e.ppid() == e.pid()) {
        break;
      }
      e = find.apply(e.ppid());
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
