package dev.veriruntime.pipeline;

import dev.veriruntime.ingest.event.AnonymousExecEvent;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.FileWriteEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.ScannedProcess;
import dev.veriruntime.verifier.FileIdentity;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Stages 2 and 3: every event that names a file (exec, executable mapping, scanned process) gets
 * the {@link ExecutableCheck} of that file by kernel identity, through {@link
 * ExecutableVerification} (cache, in-flight de-duplication, bounded lanes); anonymous executable
 * memory of a process whose executable's digest is not known yet waits for that same check.
 *
 * <p>Works on batches (one per ring-buffer round, see {@link Pipeline#runBatches}): the events of a
 * batch answered at once (cached verdicts, the steady state of a busy host, and execs of small new
 * files verified on the spot, see {@link ExecutableVerification#checkNow}) leave together as one
 * batch without any Reactor signal of their own; each event that waits for a verification leaves as
 * a batch of one when its check is done. At most {@code maxInFlight / maxBatch} batches with such
 * events wait, so at most {@code maxInFlight} events; that bound is the demand this stage signals
 * upstream, so a slow verifier slows the ring-buffer reader and the kernel counts what it cannot
 * store. Output order may differ from input order.
 */
public final class VerifyStage
    implements Function<Flux<List<RuntimeEvent>>, Flux<List<Observation>>> {
  private final ExecutableVerification verification;
  private final ProcessTable table;
  private final PipelineMetrics metrics;
  private final int maxInFlight;
  private final int maxBatch;
  private final BuildLineage lineage;

  public VerifyStage(
      ExecutableVerification verification,
      ProcessTable table,
      PipelineMetrics metrics,
      int maxInFlight) {
    this(verification, table, metrics, maxInFlight, BuildLineage.OFF);
  }

  /**
   * With build lineage: every executable check passes through {@code lineage} first. Batches hold
   * at most {@link dev.veriruntime.ingest.EventSource#MAX_BATCH} events.
   */
  public VerifyStage(
      ExecutableVerification verification,
      ProcessTable table,
      PipelineMetrics metrics,
      int maxInFlight,
      BuildLineage lineage) {
    this(
        verification,
        table,
        metrics,
        maxInFlight,
        lineage,
        dev.veriruntime.ingest.EventSource.MAX_BATCH);
  }

  /** As above, for batches of at most {@code maxBatch} events. */
  VerifyStage(
      ExecutableVerification verification,
      ProcessTable table,
      PipelineMetrics metrics,
      int maxInFlight,
      BuildLineage lineage,
      int maxBatch) {
    this.verification = verification;
    this.table = table;
    this.metrics = metrics;
    this.maxInFlight = maxInFlight;
    this.maxBatch = maxBatch;
    this.lineage = lineage;
  }

  @Override
  public Flux<List<Observation>> apply(Flux<List<RuntimeEvent>> batches) {
    return batches.flatMap(this::observeBatch, Math.max(1, maxInFlight / maxBatch));
  }

  /**
   * The observations of one batch: a {@code Mono.just} of those answered at once (which {@code
   * flatMap} emits in place without subscribing to anything, and which takes no in-flight slot),
   * followed by each waiting one as it is answered.
   */
  private Publisher<List<Observation>> observeBatch(List<RuntimeEvent> batch) {
    List<Observation> ready = new ArrayList<>(batch.size());
    List<Mono<Observation>> waiting = null;
    for (int i = 0; i < batch.size(); i++) {
      Mono<Observation> later = observe(batch.get(i), ready);
      if (later != null) {
        if (waiting == null) {
          waiting = new ArrayList<>();
        }
        waiting.add(later);
      }
    }
    if (waiting == null) {
      return ready.isEmpty() ? Mono.empty() : Mono.just(ready);
    }
    Flux<List<Observation>> answered = Flux.merge(waiting).map(List::of);
    return ready.isEmpty() ? answered : Flux.concat(Mono.just(ready), answered);
  }

  /**
   * The observation of one event: added to {@code ready} when it is answered at once (a cached
   * verdict: most events of a busy host are execs and mappings of files already verified, and that
   * path must cost next to nothing), otherwise returned as the Mono that answers it.
   */
  private Mono<Observation> observe(RuntimeEvent event, List<Observation> ready) {
    if (event instanceof ExecEvent e) {
      int pid = e.task().tgid();
      return check(
          e.file(),
          () -> "/proc/" + pid + "/exe",
          true,
          pid,
          "exec",
          c -> {
            metrics.execLatency(System.nanoTime() - e.kernelTimeNanos());
            table.checked(pid, c);
            return new Observation(event, c);
          },
          ready);
    }
    if (event instanceof ScannedProcess s && s.executable().isPresent()) {
      return check(
          s.executable().get(),
          () -> "/proc/" + s.pid() + "/exe",
          false,
          s.pid(),
          "running process",
          c -> {
            table.checked(s.pid(), c);
            return new Observation(event, c);
          },
          ready);
    }
    if (event instanceof ExecMappingEvent m) {
      return check(
          m.file(),
          () -> mapFilesPath(m.task().tgid(), m.address()),
          false,
          m.task().tgid(),
          "executable mapping",
          c -> new Observation(event, c),
          ready);
    }
    if (event instanceof FileWriteEvent w) {
      // Opened for writing or truncated: whatever was verified about this file (any ctime, any
      // size) may no longer hold. Its next exec or mapping is verified again.
      long dev = w.file().identity().dev();
      long inode = w.file().identity().inode();
      verification.invalidateIf(c -> c.identity().dev() == dev && c.identity().inode() == inode);
    } else if (event instanceof AnonymousExecEvent a) {
      // A JIT maps its code right after exec, usually before its executable's check is done; the
      // JIT allowance is by digest, so wait for that check (cached or in flight, never a second
      // hash).
      int pid = a.task().tgid();
      ProcessTable.Entry proc = table.get(pid).orElse(null);
      if (proc != null && proc.sha256() == null && proc.identity() != null) {
        return verification
            .check(proc.exePath(), proc.identity(), () -> "/proc/" + pid + "/exe")
            .map(c -> new Observation(event, c));
      }
    }
    ready.add(new Observation(event, null));
    return null;
  }

  /**
   * As {@link #observe}, for an event about {@code file}; {@code atOnce}: on a miss, try {@link
   * ExecutableVerification#checkNow} first (execs only: the start-up scan's processes and library
   * mappings wait for a lane, and leave the inline budget to the execs whose latency it is for).
   */
  private Mono<Observation> check(
      ExecutableFile file,
      Supplier<String> procPath,
      boolean atOnce,
      int pid,
      String what,
      Function<ExecutableCheck, Observation> then,
      List<Observation> ready) {
    FileIdentity id = file.identity();
    Optional<ExecutableCheck> now = verification.hit(id);
    if (now.isEmpty() && atOnce) {
      now = verification.checkNow(file, procPath);
    }
    if (now.isPresent()) {
      ready.add(then.apply(lineage.decide(pid, what, now.get())));
      return null;
    }
    return verification
        .check(file.path(), id, procPath)
        .map(c -> then.apply(lineage.decide(pid, what, c)));
  }

  /**
   * {@code /proc/PID/map_files/START-END} of the mapping that contains {@code address} now (the
   * kernel may have merged or split it since the mmap), or null when there is none.
   */
  static String mapFilesPath(int pid, long address) {
    return ProcessMappings.containing(pid, address)
        .map(m -> "/proc/" + pid + "/map_files/" + m.mapFilesName())
        .orElse(null);
  }
}
