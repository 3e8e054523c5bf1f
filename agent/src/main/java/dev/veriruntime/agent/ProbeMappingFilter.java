package dev.veriruntime.agent;

import dev.veriruntime.ingest.Probe;
import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.WatchReason;
import dev.veriruntime.pipeline.MappingFilter;
import dev.veriruntime.verifier.FileIdentity;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintStream;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToDoubleFunction;

/**
 * The {@link MappingFilter} of a live probe. Publishes {@code veriruntime.events.filtered{kind=
 * ExecMappingEvent}}: mappings the probe counted instead of sending, so the event counts still add
 * up. A kernel error is printed once and otherwise ignored (the mappings are then simply sent).
 */
final class ProbeMappingFilter implements MappingFilter {
  private final Probe probe;
  private final PrintStream err;
  private final SelfWatch self;
  private final AtomicBoolean warned = new AtomicBoolean();

  /**
   * Files {@link #skipExecs} put in the kernel's quiet and watch maps lately, with when. Within
   * {@link #REQUIET_NANOS} of that a file is not put there again; after it, it is (the quiet map is
   * LRU: the kernel may have dropped it, and its execs then reach the pipeline, which says so here
   * again). Anything that takes files out of those maps ({@link #reset}, counting) forgets them.
   */
  private final ConcurrentHashMap<FileIdentity, Long> madeQuiet = new ConcurrentHashMap<>();

  private static final long REQUIET_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final int MADE_QUIET_MAX = 4096;

  private ProbeMappingFilter(Probe probe, SelfWatch self, PrintStream err) {
    this.probe = probe;
    this.self = self;
    this.err = err;
  }

  /**
   * @param self the agent's own watched files: their reason {@code SELF} is kept when they are also
   *     mapped, and they are watched again after a reset
   */
  static MappingFilter of(Probe probe, SelfWatch self, MeterRegistry registry, PrintStream err) {
    FunctionCounter.builder(
            "veriruntime.events.filtered", probe, p -> p.isClosed() ? 0 : p.filteredMappings())
        .description(
            "executable mappings of verified files counted in the kernel instead of reported")
        .tag("kind", "ExecMappingEvent")
        .register(registry);
    FunctionCounter.builder(
            "veriruntime.events.filtered", probe, p -> p.isClosed() ? 0 : p.filteredExecs())
        .description(
            "execs counted in the kernel instead of reported: of verified executables, and the"
                + " repeats of an unknown one that the incident book folds")
        .tag("kind", "ExecEvent")
        .register(registry);
    FunctionCounter.builder(
            "veriruntime.events.filtered",
            probe,
            p -> p.isClosed() ? 0 : p.filteredExits() + p.untrackedExits())
        .description(
            "exits counted in the kernel instead of reported: of quietly started processes, and of"
                + " forks that never exec'd (the process table tracks neither)")
        .tag("kind", "ExitEvent")
        .register(registry);
    FunctionCounter.builder(
            "veriruntime.probe.exits.untracked", probe, p -> p.isClosed() ? 0 : p.untrackedExits())
        .description(
            "exits of forks that never exec'd, counted in the kernel instead of reported (part of"
                + " veriruntime.events.filtered{kind=ExitEvent})")
        .register(registry);
    FunctionCounter.builder(
            "veriruntime.probe.watches.stale", probe, p -> p.isClosed() ? 0 : p.staleWatches())
        .description(
            "watched files the kernel stopped watching unreported: the file was gone and a new"
                + " file with its inode number was written")
        .register(registry);
    followCounter(probe, "execs", Probe::followedExecs)
        .description("execs of quiet executables reported because the process is followed")
        .register(registry);
    followCounter(probe, "inherited", Probe::inheritedFollows)
        .description("children that inherited following at fork")
        .register(registry);
    followCounter(probe, "past-depth", Probe::incidentDepthEnds)
        .description(
            "children that did not inherit an incident: more than "
                + Probe.INCIDENT_GENERATIONS
                + " forks below the process with the incident")
        .register(registry);
    followCounter(probe, "dropped", Probe::droppedFollows)
        .description(
            "processes the kernel could not follow: "
                + Probe.FOLLOW_CAPACITY
                + " are followed already")
        .register(registry);
    return new ProbeMappingFilter(probe, self, err);
  }

  private static FunctionCounter.Builder<Probe> followCounter(
      Probe probe, String what, ToDoubleFunction<Probe> count) {
    return FunctionCounter.builder(
            "veriruntime.probe.followed", probe, p -> p.isClosed() ? 0 : count.applyAsDouble(p))
        .tag("what", what);
  }

  /**
   * The file is verified and mapped executable: its mappings are counted in the kernel, and any
   * open for writing or truncation of it is reported at once (a FileWriteEvent).
   */
  @Override
  public void skip(ExecutableFile file) {
    try {
      probe.skipMappingsOf(file.identity());
      watchWrites(file);
    } catch (RuntimeException e) {
      warnOnce(e);
    }
  }

  /**
   * The executable is verified and its exec says nothing: its execs are counted in the kernel (the
   * processes are adopted by {@link QuietProcesses}), and writes into it are reported at once.
   */
  @Override
  public void skipExecs(ExecutableFile file) {
    long now = System.nanoTime();
    Long last = madeQuiet.get(file.identity());
    if (last != null && now - last < REQUIET_NANOS) {
      // Quiet in the kernel already, and this exec was reported all the same: its process is
      // followed (build lineage, an open incident), so every exec of a compiler or shell there
      // comes here. Two map updates each would only repeat what the maps hold.
      return;
    }
    try {
      probe.skipExecsOf(file.identity());
      watchWrites(file);
      if (madeQuiet.size() >= MADE_QUIET_MAX) {
        madeQuiet.clear(); // bounded; a forgotten file only costs its next update
      }
      madeQuiet.put(file.identity(), now);
    } catch (RuntimeException e) {
      warnOnce(e);
    }
  }

  private void watchWrites(ExecutableFile file) {
    FileIdentity id = file.identity();
    probe.watchWrites(
        id,
        file.generation(),
        self.with(id, EnumSet.of(WatchReason.VERIFIED, WatchReason.MAPPED_EXECUTABLE)));
  }

  /**
   * The executable was reported unknown and its repeats are folded: the kernel counts its execs
   * (processes that live on are adopted by {@link QuietProcesses}).
   */
  @Override
  public boolean countExecs(FileIdentity file) {
    madeQuiet.remove(file);
    try {
      return probe.countExecsOf(file);
    } catch (RuntimeException e) {
      warnOnce(e);
      return false;
    }
  }

  @Override
  public Optional<ExecCount> execCount(FileIdentity file) {
    try {
      return probe
          .execCount(file)
          .map(
              c -> {
                // The probe's clock is CLOCK_MONOTONIC, System.nanoTime()'s on Linux.
                Instant now = Instant.now();
                long nanoNow = System.nanoTime();
                return new ExecCount(
                    c.execs(),
                    now.minusNanos(nanoNow - c.firstNanos()),
                    now.minusNanos(nanoNow - c.lastNanos()),
                    c.lastPid());
              });
    } catch (RuntimeException e) {
      warnOnce(e);
      return Optional.empty();
    }
  }

  @Override
  public void stopCounting(FileIdentity file) {
    madeQuiet.remove(file);
    try {
      probe.stopCountingExecsOf(file);
    } catch (RuntimeException e) {
      warnOnce(e);
    }
  }

  @Override
  public void reset() {
    madeQuiet.clear();
    try {
      probe.reportAllExecs();
      probe.reportAllMappings();
      probe.unwatchAllWrites();
      self.rewatch();
    } catch (RuntimeException e) {
      warnOnce(e);
    }
  }

  private void warnOnce(RuntimeException e) {
    if (warned.compareAndSet(false, true)) {
      err.println(
          "veriruntime: kernel mapping filter unavailable, mappings of verified files are sent as usual: "
              + e.getMessage());
    }
  }
}
