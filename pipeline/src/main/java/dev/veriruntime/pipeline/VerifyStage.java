package dev.veriruntime.pipeline;

import dev.veriruntime.ingest.event.AnonymousExecEvent;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.FileWriteEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.ScannedProcess;
import dev.veriruntime.verifier.FileIdentity;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Stages 2 and 3: every event that names a file (exec, executable mapping, scanned process) gets
 * the {@link ExecutableCheck} of that file by kernel identity, through {@link
 * ExecutableVerification} (cache, in-flight de-duplication, bounded lanes); anonymous executable
 * memory of a process whose executable's digest is not known yet waits for that same check. At most
 * {@code maxInFlight} events wait for verification; that bound is the demand this stage signals
 * upstream, so a slow verifier slows the ring-buffer reader and the kernel counts what it cannot
 * store. Output order may differ from input order.
 */
public final class VerifyStage implements Function<Flux<RuntimeEvent>, Flux<Observation>> {
  private final ExecutableVerification verification;
  private final ProcessTable table;
  private final PipelineMetrics metrics;
  private final int maxInFlight;
  private final BuildLineage lineage;

  public VerifyStage(
      ExecutableVerification verification,
      ProcessTable table,
      PipelineMetrics metrics,
      int maxInFlight) {
    this(verification, table, metrics, maxInFlight, BuildLineage.OFF);
  }

  /** With build lineage: every executable check passes through {@code lineage} first. */
  public VerifyStage(
      ExecutableVerification verification,
      ProcessTable table,
      PipelineMetrics metrics,
      int maxInFlight,
      BuildLineage lineage) {
    this.verification = verification;
    this.table = table;
    this.metrics = metrics;
    this.maxInFlight = maxInFlight;
    this.lineage = lineage;
  }

  @Override
  public Flux<Observation> apply(Flux<RuntimeEvent> events) {
    return events.flatMap(this::observe, maxInFlight);
  }

  /**
   * The observation of one event. A cached verdict is answered with {@code Mono.just}, which {@code
   * flatMap} emits in place without subscribing to anything: most events of a busy host are execs
   * and mappings of files already verified, and that path must cost next to nothing.
   */
  private Mono<Observation> observe(RuntimeEvent event) {
    if (event instanceof ExecEvent e) {
      int pid = e.task().tgid();
      return check(
          e.file(),
          () -> "/proc/" + pid + "/exe",
          pid,
          "exec",
          c -> {
            metrics.execLatency(System.nanoTime() - e.kernelTimeNanos());
            table.checked(pid, c);
            return new Observation(event, c);
          });
    }
    if (event instanceof ScannedProcess s && s.executable().isPresent()) {
      return check(
          s.executable().get(),
          () -> "/proc/" + s.pid() + "/exe",
          s.pid(),
          "running process",
          c -> {
            table.checked(s.pid(), c);
            return new Observation(event, c);
          });
    }
    if (event instanceof ExecMappingEvent m) {
      return check(
          m.file(),
          () -> mapFilesPath(m.task().tgid(), m.address()),
          m.task().tgid(),
          "executable mapping",
          c -> new Observation(event, c));
    }
    if (event instanceof FileWriteEvent w) {
      // Opened for writing or truncated: whatever was verified about this file (any ctime, any
      // size) may no longer hold. Its next exec or mapping is verified again.
      long dev = w.file().identity().dev();
      long inode = w.file().identity().inode();
      verification.invalidateIf(c -> c.identity().dev() == dev && c.identity().inode() == inode);
      return Mono.just(new Observation(event, null));
    }
    if (event instanceof AnonymousExecEvent a) {
      // A JIT maps its code right after exec, usually before its executable's check is done; the
      // JIT
      // allowance is by digest, so wait for that check (cached or in flight, never a second hash).
      int pid = a.task().tgid();
      ProcessTable.Entry proc = table.get(pid).orElse(null);
      if (proc != null && proc.sha256() == null && proc.identity() != null) {
        return verification
            .check(proc.exePath(), proc.identity(), () -> "/proc/" + pid + "/exe")
            .map(c -> new Observation(event, c));
      }
    }
    return Mono.just(new Observation(event, null));
  }

  private Mono<Observation> check(
      ExecutableFile file,
      Supplier<String> procPath,
      int pid,
      String what,
      Function<ExecutableCheck, Observation> then) {
    FileIdentity id = file.identity();
    Optional<ExecutableCheck> hit = verification.hit(id);
    if (hit.isPresent()) {
      return Mono.just(then.apply(lineage.decide(pid, what, hit.get())));
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
