package dev.veriruntime.agent;

import dev.veriruntime.ingest.Probe;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.event.FollowReason;
import dev.veriruntime.ingest.event.ToolchainWriteEvent;
import dev.veriruntime.pipeline.BuildLineage;
import dev.veriruntime.pipeline.ExecutableCheck;
import dev.veriruntime.pipeline.PipelineMetrics;
import dev.veriruntime.pipeline.ProcessTable;
import dev.veriruntime.sinks.journal.EvidenceJournal;
import dev.veriruntime.sinks.journal.JournalEntry;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.lineage.BuildStep;
import dev.veriruntime.verifier.lineage.LineageDecision;
import dev.veriruntime.verifier.lineage.LineageRecord;
import dev.veriruntime.verifier.lineage.LineageTrust;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;
import reactor.core.scheduler.Scheduler;

/**
 * The agent's build lineage: which files verified toolchain processes wrote inside the lineage
 * roots, with their final kernel identity and the chain of processes that produced them, and the
 * {@link LineageTrust} decision for every executable check.
 *
 * <p>Fed in ring-buffer order by the track stage: an {@code OPENED} toolchain write inside a root
 * records the path and the chain (taken then, while the writer's ancestors still run); the {@code
 * DONE} write turns it into a {@link LineageRecord} with the final identity. Anything else that
 * writes the file later changes its identity, so the record no longer matches.
 *
 * <p>Toolchain executables are found at start-up ({@link #markInstalled}) and whenever a verified
 * executable with a toolchain name runs; each is put in the probe's toolchain map once.
 *
 * <p>Every decision inside a root is counted ({@link #counts}, {@code veriruntime.lineage.*}) and,
 * once per file identity and outcome, written to the evidence journal as a {@code lineage} note:
 * what ran, and the chain that built it. Bounded: at most {@value #MAX_RECORDS} records and {@value
 * #MAX_PENDING} files being written (least recently used go first: a forgotten file is simply not
 * trusted by lineage). Thread-safe.
 */
final class LineageStore implements BuildLineage {
  static final int MAX_RECORDS = 262_144;
  static final int MAX_PENDING = 65_536;
  private static final int CHAIN_DEPTH = 16;
  private static final int CHAIN_WITHOUT_ROOT = 6;
  private static final int MAX_NOTED = 65_536;

  /** How long a note may wait to be written: the notes of a build's moment share one sync. */
  static final Duration NOTE_DELAY = Duration.ofSeconds(1);

  /** Marks a toolchain executable in the kernel; false when the probe cannot. */
  interface Marker {
    boolean mark(FileIdentity executable);
  }

  /**
   * Has the kernel follow builds: every exec of a verified build root (make, ninja...) and of its
   * descendants is reported (none is quiet), so the chain of a toolchain write is in the process
   * table from exec records rather than from /proc while its processes still run.
   */
  interface BuildFollower {
    BuildFollower NONE =
        new BuildFollower() {
          @Override
          public boolean followExecsOf(FileIdentity buildRoot) {
            return false;
          }

          @Override
          public void follow(int pid) {}
        };

    /** From now on, each process that executes {@code buildRoot} is followed. */
    boolean followExecsOf(FileIdentity buildRoot);

    /** Follows a build root's process that runs already (exec'd before it was known). */
    void follow(int pid);
  }

  private record InodeKey(long dev, long inode) {
    static InodeKey of(FileIdentity id) {
      return new InodeKey(id.dev(), id.inode());
    }
  }

  private record Pending(String path, List<BuildStep> chain) {}

  private final LineageTrust trust;
  private final Toolchains toolchains;
  private final ProcessTable table;
  private final PipelineMetrics metrics;
  private final Marker marker;
  private final BuildFollower builds;

  /** Verified build-root executables the kernel follows the processes of. */
  private final Map<FileIdentity, Boolean> buildRoots = new ConcurrentHashMap<>();

  private volatile Consumer<JournalEntry.Note> evidence;
  private final Clock clock;
  private final Map<InodeKey, Pending> pending = lru(MAX_PENDING);
  private final Map<InodeKey, LineageRecord> records = lru(MAX_RECORDS);
  private final Map<String, Boolean> noted = lru(MAX_NOTED);
  private final ConcurrentHashMap<FileIdentity, String> marked = new ConcurrentHashMap<>();

  /** Executables already considered as toolchains: the per-exec cost is then one lookup. */
  private final Map<FileIdentity, Boolean> considered = new ConcurrentHashMap<>();

  private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();

  LineageStore(
      LineageTrust trust,
      Toolchains toolchains,
      ProcessTable table,
      PipelineMetrics metrics,
      Marker marker,
      BuildFollower builds,
      Consumer<JournalEntry.Note> evidence,
      Clock clock) {
    this.builds = builds;
    this.trust = trust;
    this.toolchains = toolchains;
    this.table = table;
    this.metrics = metrics;
    this.marker = marker;
    this.evidence = evidence;
    this.clock = clock;
  }

  /**
   * The daemon's lineage: off ({@link BuildLineage#OFF}) without roots; else a store over the
   * probe's toolchain map and the journal (when on), with the installed toolchains marked. Its
   * notes reach the journal through {@link JournalNotes} on {@code timer}, registered in {@code
   * resources}: the ring reader, which decides, never waits for the disk.
   */
  static BuildLineage start(
      Policy policy,
      ProcessTable table,
      PipelineMetrics metrics,
      Probe probe,
      EvidenceJournal journal,
      BinaryVerifier verifier,
      Scheduler timer,
      Resources resources,
      Clock clock,
      PrintStream err) {
    LineageTrust trust = trust(policy);
    if (!trust.enabled()) {
      return BuildLineage.OFF;
    }
    LineageStore store =
        new LineageStore(
            trust,
            Toolchains.of(policy.lineage.toolchain),
            table,
            metrics,
            id ->
                probe.markToolchain(
                    new FileIdentity(id.dev(), id.inode(), id.ctimeNanos(), id.size())),
            new BuildFollower() {
              @Override
              public boolean followExecsOf(FileIdentity buildRoot) {
                return probe.followExecsOf(buildRoot);
              }

              @Override
              public void follow(int pid) {
                probe.follow(pid, EnumSet.of(FollowReason.LINEAGE));
              }
            },
            n -> {},
            clock);
    if (journal != null) {
      store.evidence =
          resources.register(
              "lineage notes",
              new JournalNotes(journal, timer, NOTE_DELAY, () -> store.count("journal_failed")));
    }
    int marked = store.markInstalled(verifier);
    err.println(
        "veriruntime: build lineage: roots "
            + trust.roots()
            + ", "
            + marked
            + " verified toolchain executables marked");
    err.flush();
    return store;
  }

  /** The policy's roots as a trust; empty roots: lineage off. */
  static LineageTrust trust(Policy policy) {
    return new LineageTrust(policy.lineage.roots.stream().map(Path::of).toList());
  }

  /** {@code settings} with the probe's lineage setting on when the policy has roots. */
  static ProbeSettings probeSettings(Policy policy, ProbeSettings settings) {
    return policy.lineage.roots.isEmpty() ? settings : settings.withBuildLineage();
  }

  /**
   * Verifies the toolchain executables installed in the usual places and marks those that are
   * VERIFIED (or vouched by digest); returns how many were marked.
   */
  int markInstalled(BinaryVerifier verifier) {
    int n = 0;
    for (Path p : Toolchains.buildRootCandidates()) {
      try {
        consider(p.toString(), verifier.verify(p));
      } catch (IOException | RuntimeException e) {
        count("build_root_unverifiable");
      }
    }
    for (Path p : toolchains.candidates()) {
      try {
        BinaryVerification v = verifier.verify(p);
        if (consider(p.toString(), v)) {
          n++;
        }
      } catch (IOException | RuntimeException e) {
        count("toolchain_unverifiable");
      }
    }
    return n;
  }

  @Override
  public void written(ToolchainWriteEvent event) {
    var id = event.file().identity();
    InodeKey key = new InodeKey(id.dev(), id.inode());
    if (event.phase() == ToolchainWriteEvent.Phase.OPENED) {
      if (trust.rootOf(event.file().path()).isEmpty()) {
        return; // temporary files, caches: lineage only ever answers for files inside a root
      }
      Pending p = new Pending(event.file().path(), chain(event.task().tgid(), event.task().comm()));
      synchronized (pending) {
        pending.put(key, p);
      }
      return;
    }
    Pending p;
    synchronized (pending) {
      p = pending.remove(key);
    }
    if (p == null) {
      return;
    }
    FileIdentity last = id;
    synchronized (records) {
      records.put(key, new LineageRecord(last, p.path(), p.chain(), clock.instant()));
    }
    count("files");
    metrics.lineageFile();
  }

  @Override
  public ExecutableCheck decide(int pid, String what, ExecutableCheck check) {
    if (!check.verified()) {
      return check;
    }
    BinaryVerification v = check.verification();
    consider(check.path(), v);
    if (v.verdict() == Verdict.VERIFIED
        && !what.equals("executable mapping")
        && buildRoots.containsKey(v.identity())) {
      follow(pid); // exec'd before the kernel knew it, or running at start-up
    }
    if (v.verdict() != Verdict.UNKNOWN || trust.rootOf(check.path()).isEmpty()) {
      return check; // the common case: no lookup at all
    }
    LineageRecord record;
    synchronized (records) {
      record = records.get(InodeKey.of(v.identity()));
    }
    LineageDecision d = trust.decide(v, check.path(), record, record);
    if (!d.inRoot()) {
      return check;
    }
    String outcome = d.outcome().name().toLowerCase();
    count(outcome);
    metrics.lineageDecision(outcome);
    note(pid, what, check.path(), d);
    return ExecutableCheck.of(d.verification());
  }

  /** {@link #counts()} of a store; nothing when lineage is off. */
  static Supplier<Map<String, Long>> counts(BuildLineage lineage) {
    if (lineage instanceof LineageStore store) {
      return store::counts;
    }
    return Map::of;
  }

  /** Decisions by outcome, files recorded, toolchain executables marked (for Health). */
  Map<String, Long> counts() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, v) -> out.put(k, v.sum()));
    out.put("toolchain_executables", (long) marked.size());
    synchronized (records) {
      out.put("records", (long) records.size());
    }
    return out;
  }

  /** Marks a verified (or vouched) executable with a toolchain name; true when newly marked. */
  private boolean consider(String path, BinaryVerification v) {
    if (considered.putIfAbsent(v.identity(), Boolean.TRUE) != null) {
      return false;
    }
    if (considered.size() > MAX_RECORDS) {
      considered.clear(); // bounded; a cleared executable is only considered again
    }
    if (v.verdict() == Verdict.VERIFIED && Toolchains.buildRoot(path)) {
      followBuilds(v.identity()); // and on: "go" is a build root and a toolchain
    }
    boolean vouched = toolchains.vouched(v.sha256());
    if (!vouched && !(v.verdict() == Verdict.VERIFIED && toolchains.named(path))) {
      return false;
    }
    if (marked.putIfAbsent(v.identity(), v.sha256()) != null) {
      return false;
    }
    try {
      if (!marker.mark(v.identity())) {
        count("toolchain_unmarked");
      }
    } catch (RuntimeException e) {
      count("toolchain_unmarked"); // map full: that toolchain's outputs are not trusted by lineage
    }
    return true;
  }

  private void followBuilds(FileIdentity buildRoot) {
    try {
      if (builds.followExecsOf(buildRoot)) {
        buildRoots.put(buildRoot, Boolean.TRUE);
      }
    } catch (RuntimeException e) {
      count("build_root_unfollowed"); // map full: that build's quiet execs are adopted instead
    }
  }

  private void follow(int pid) {
    try {
      builds.follow(pid);
    } catch (RuntimeException e) {
      count("build_root_unfollowed");
    }
  }

  /** From the build's root (the outermost make, ninja... within reach) to the writer. */
  private List<BuildStep> chain(int pid, String comm) {
    List<ProcessTable.Entry> line = table.ancestry(pid, CHAIN_DEPTH);
    if (line.isEmpty()) {
      return List.of(new BuildStep(pid, "comm " + comm, null, true));
    }
    int end = Math.min(line.size(), CHAIN_WITHOUT_ROOT);
    for (int i = line.size() - 1; i > 0; i--) {
      if (line.get(i).exePath() != null && Toolchains.buildRoot(line.get(i).exePath())) {
        end = i + 1;
        break;
      }
    }
    List<BuildStep> chain = new ArrayList<>();
    for (ProcessTable.Entry e : line.subList(0, end)) {
      String sha = e.identity() == null ? null : marked.get(e.identity());
      chain.add(
          new BuildStep(
              e.pid(),
              e.exePath() == null ? "comm " + e.comm() : e.exePath(),
              sha != null ? sha : e.sha256(),
              sha != null));
    }
    Collections.reverse(chain);
    return chain;
  }

  private void note(int pid, String what, String path, LineageDecision d) {
    BinaryVerification v = d.verification();
    FileIdentity id = v.identity();
    String once = d.outcome() + " " + id;
    synchronized (noted) {
      if (noted.put(once, Boolean.TRUE) != null) {
        return;
      }
    }
    Map<String, Object> detail = new LinkedHashMap<>();
    detail.put("outcome", d.outcome().name());
    detail.put("what", what);
    detail.put("pid", pid);
    detail.put("path", path);
    detail.put(
        "identity",
        Map.of(
            "dev", id.dev(), "ino", id.inode(), "ctimeNanos", id.ctimeNanos(), "size", id.size()));
    detail.put("sha256", v.sha256());
    detail.put("root", d.root());
    detail.put("verdict", v.verdict().name());
    LineageRecord r = d.record();
    String summary;
    if (r != null) {
      detail.put("writtenPath", r.path());
      detail.put("chain", r.chain().stream().map(LineageStore::step).toList());
      detail.put("toolchain", r.toolchainDigests());
      detail.put(
          "recordedIdentity",
          Map.of("ctimeNanos", r.identity().ctimeNanos(), "size", r.identity().size()));
    }
    summary =
        switch (d.outcome()) {
          case TRUSTED ->
              "trusted by build lineage (not a reference, not a signature): "
                  + what
                  + " of "
                  + path
                  + ", built by "
                  + r.describeChain();
          case CHANGED_SINCE_WRITTEN ->
              "lineage void: "
                  + what
                  + " of "
                  + path
                  + ", written by "
                  + r.describeChain()
                  + " and changed since";
          default -> "no lineage: " + what + " of " + path + " (no toolchain process wrote it)";
        };
    evidence.accept(new JournalEntry.Note(clock.instant(), "lineage", summary, detail));
  }

  private static Map<String, Object> step(BuildStep s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("pid", s.pid());
    m.put("exe", s.exePath());
    if (s.sha256() != null) {
      m.put("sha256", s.sha256());
    }
    m.put("toolchain", s.toolchain());
    return m;
  }

  private void count(String what) {
    counts.computeIfAbsent(what, k -> new LongAdder()).increment();
  }

  private static <K, V> Map<K, V> lru(int capacity) {
    return new LinkedHashMap<>(256, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > capacity;
      }
    };
  }
}
