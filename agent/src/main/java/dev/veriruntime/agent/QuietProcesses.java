package dev.veriruntime.agent;

import dev.veriruntime.ingest.Probe;
import dev.veriruntime.ingest.ProcScanner;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.ScannedProcess;
import dev.veriruntime.pipeline.ProcessTable;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Processes the probe let start quietly: an exec of a verified executable with nothing to report
 * sends no record (see {@code Probe.skipExecsOf}); the kernel keeps the process until it exits
 * (then it sends nothing either) or the agent adopts it. Adoption reads the process from {@code
 * /proc} as the start-up scan does:
 *
 * <ul>
 *   <li>every {@code period}, the quiet processes older than the period are adopted as {@link
 *       ScannedProcess} events, so a long-running one is in the process table (and re-attested)
 *       within two periods;
 *   <li>at once, when an event is built about a quiet process or its child (parent chains, build
 *       lineage): the process table asks {@link #adopt}.
 * </ul>
 *
 * Most processes of an exec storm or a build live a few milliseconds and cost the agent nothing.
 */
final class QuietProcesses implements ProcessTable.Adopter {
  /** How long a {@link #peek} read of a forked process is reused. */
  static final Duration PEEK_REUSE = Duration.ofSeconds(1);

  /** The most peeked processes kept for reuse; more are rare, so the store is simply emptied. */
  private static final int PEEKED_MAX = 256;

  private final Probe probe;
  private final ProcScanner scanner;
  private final Map<Integer, Peeked> peeked = new ConcurrentHashMap<>();

  private record Peeked(ProcessTable.Entry entry, long readAtNanos) {}

  QuietProcesses(Probe probe, ProcScanner scanner) {
    this.probe = probe;
    this.scanner = scanner;
  }

  /** Adopts {@code pid} if it is a quiet process still running. */
  @Override
  public Optional<ProcessTable.Entry> adopt(int pid) {
    try {
      if (probe.isClosed() || !probe.adoptQuietTask(pid)) {
        return Optional.empty();
      }
      return entry(pid);
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * Reads any live {@code pid} from /proc (see {@link ProcessTable.Adopter#peek}), or returns what
   * it read of that pid less than {@link #PEEK_REUSE} ago: every event under one forked parent (a
   * driver's worker, a subshell running a loop) names it, and a burst of them reads it once. Reuse
   * is bounded by time, as a forked process's end is never reported: a pid reused within that
   * second would be named as the process before it (at thousands of forks a second, pids come round
   * in minutes).
   */
  @Override
  public Optional<ProcessTable.Entry> peek(int pid) {
    long now = System.nanoTime();
    Peeked last = peeked.get(pid);
    if (last != null && now - last.readAtNanos() < PEEK_REUSE.toNanos()) {
      return Optional.of(last.entry());
    }
    Optional<ProcessTable.Entry> read = entry(pid);
    if (peeked.size() >= PEEKED_MAX) {
      peeked.clear();
    }
    read.ifPresentOrElse(e -> peeked.put(pid, new Peeked(e, now)), () -> peeked.remove(pid));
    return read;
  }

  private Optional<ProcessTable.Entry> entry(int pid) {
    try {
      return read(pid)
          .flatMap(
              s ->
                  s.executable()
                      .map(
                          x ->
                              new ProcessTable.Entry(
                                  s.pid(), s.ppid(), x.path(), x.identity(), 0, s.comm(), null)));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The quiet processes that outlived {@code period}, as scan events, every period. */
  Flux<RuntimeEvent> adoptions(Duration period, Scheduler timer) {
    long periodNanos = period.toNanos();
    return Flux.interval(period, timer)
        .onBackpressureDrop()
        .concatMapIterable(tick -> claim(System.nanoTime() - periodNanos))
        .concatMap(t -> Flux.fromStream(read(t.tgid()).stream()));
  }

  private List<Probe.QuietTask> claim(long execBeforeNanos) {
    try {
      return probe.isClosed() ? List.of() : probe.adoptQuietTasks(execBeforeNanos);
    } catch (RuntimeException e) {
      return List.of(); // the kernel refused a read: the next tick tries again
    }
  }

  private Optional<ScannedProcess> read(int pid) {
    try {
      return scanner.process(pid);
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
