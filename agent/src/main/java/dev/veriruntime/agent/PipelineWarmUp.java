package dev.veriruntime.agent;

import dev.veriruntime.ingest.event.AnonymousExecEvent;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.MappingSource;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.ScannedProcess;
import dev.veriruntime.ingest.event.TaskContext;
import dev.veriruntime.pipeline.BuildLineage;
import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.pipeline.DropLedger;
import dev.veriruntime.pipeline.ExecutableVerification;
import dev.veriruntime.pipeline.IncidentBook;
import dev.veriruntime.pipeline.MappingFilter;
import dev.veriruntime.pipeline.Pipeline;
import dev.veriruntime.pipeline.PipelineMetrics;
import dev.veriruntime.pipeline.ProcessLiveness;
import dev.veriruntime.pipeline.ProcessTable;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Runs a few thousand made-up execs through a pipeline of its own when the agent starts, on a
 * thread of its own at the lowest priority, and throws whatever comes out away. On a calm host the
 * only execs that reach the pipeline are those of binaries that are not trusted (the probe counts a
 * trusted one's execs in the kernel, and an unknown one's repeats in a storm), so the path of such
 * an exec once its file is verified (the process table, the cached verdict, the incident book's
 * repeat) runs a few times an hour and stays in the JIT's profiling tier for days; compiled, its
 * exec → verdict tail is about half as long (benchmarks/README.md, "Calm latency: a warm path").
 *
 * <p>The execs are of the executables the start-up scan found running ({@link #sample}, at most
 * {@link #FILES}; the JVM's launcher when there was no scan), round robin, each in a round with a
 * library mapping (another of those files) and the previous process's exit, as the probe sends
 * them, its parent the process that exited just before and, every {@value #ANONYMOUS_EVERY}th, a
 * JIT's anonymous code mapping, so the code is compiled for the mix a host really has: trusted and
 * unknown files, the first exec of each a cache miss, the others hits, departed processes past
 * their grace period. A branch that the made-up execs never took throws the compiled code away at
 * the first real exec that takes it, and a calm host then runs that code in the JIT's profiling
 * tier until it has seen thousands more execs (benchmarks/README.md, "Calm p50: the wake-up
 * floor"). Each exec has a pid no process can have (at or above the kernel's limit of 2^22). The
 * pipeline given is the live one's stages over state of their own ({@link #scratchPipeline}):
 * nothing it does reaches the agent's process table, incidents, metrics or sinks.
 *
 * <p>Costs one to two CPU seconds once (the execs and the compilations they cause), one more
 * verification of each of those files, and a full collection of the garbage it leaves; {@code
 * verification.warm-up-execs: 0} turns it off.
 */
final class PipelineWarmUp extends WarmUp {
  /** The first made-up pid: above {@code PID_MAX_LIMIT} (2^22), so /proc has no such process. */
  static final int FIRST_PID = 1 << 23;

  /** The most distinct executables the execs are made of. */
  static final int FILES = 64;

  /** One round in this many also has an anonymous executable mapping (a JIT's code). */
  static final int ANONYMOUS_EVERY = 16;

  private static final long MAPPED_AT = 0x7f0000000000L;
  private static final int PROT_EXEC = 4;
  private static final int MAP_PRIVATE = 2;

  // Let go of when the work starts: what the scratch pipeline holds once it has run (a process
  // table of 4,096 departed made-up processes, an incident book, meters) is garbage, not old
  // generation for the agent's lifetime.
  private volatile Pipeline pipeline;
  private final Path file;
  private final int execs;
  private final PrintStream err;
  private final Map<FileIdentity, ExecutableFile> files = new ConcurrentHashMap<>();

  /** Runs {@code execs} made-up execs of {@code file} through {@code pipeline} once started. */
  PipelineWarmUp(Pipeline pipeline, Path file, int execs, PrintStream err) {
    super("veriruntime-pipeline-warm-up");
    this.pipeline = pipeline;
    this.file = file;
    this.execs = execs;
    this.err = err;
  }

  /**
   * The live pipeline's stages over state of their own (process table, verdict cache, incident
   * book, drop ledger, metrics in {@code meters}; no sink, no kernel filter, no build lineage) and
   * the live verifier, which is pure: nothing that goes through it reaches what the agent reports.
   */
  static Pipeline scratchPipeline(
      Policy policy,
      BinaryVerifier verifier,
      Scheduler smallLane,
      Scheduler largeLane,
      Scheduler timer,
      MeterRegistry meters,
      Clock clock,
      String host) {
    DropLedger ledger = new DropLedger();
    PipelineMetrics metrics = new PipelineMetrics(meters);
    return new Pipeline(
        new Pipeline.Components(
            new ExecutableVerification(
                verifier,
                FILES,
                smallLane,
                largeLane,
                policy.verification.largeFileBytes,
                16,
                new ExecutableVerification.Inline(
                    policy.verification.inlineMaxBytes,
                    Duration.ofMillis(policy.verification.inlineMillisPerSecond)),
                metrics,
                ledger),
            // Departed processes expire at once: a live table's first exits past the grace
            // period take that branch within seconds, and a branch the warm-up never took sends
            // the compiled track and verify stages back to the interpreter.
            new ProcessTable(1024, ledger, Duration.ZERO),
            new Classifier(clock, host),
            Set.of(),
            ledger,
            metrics,
            List.of(),
            Duration.ofSeconds(policy.aggregation.windowSeconds),
            policy.aggregation.maxKeys,
            Duration.ofSeconds(policy.aggregation.dropReportSeconds),
            policy.verification.queue,
            timer,
            null,
            host,
            MappingFilter.NONE,
            new IncidentBook(
                policy.incidents.settings(
                    policy.aggregation.maxKeys, ProcessHandle.current().pid()),
                ProcessLiveness.proc()),
            BuildLineage.OFF));
  }

  /** Takes the executable of a process the start-up scan found, if there is room for it. */
  void sample(RuntimeEvent scanned) {
    if (files.size() < FILES && scanned instanceof ScannedProcess p) {
      p.executable().ifPresent(x -> files.putIfAbsent(x.identity(), x));
    }
  }

  /** Distinct executables taken from the scan so far. */
  int executables() {
    return files.size();
  }

  @Override
  void work() {
    Pipeline scratch = pipeline;
    pipeline = null;
    long start = System.nanoTime();
    List<ExecutableFile> made = new ArrayList<>(files.values());
    try {
      if (made.isEmpty()) {
        Path real = file.toRealPath();
        made.add(
            new ExecutableFile(
                BinaryVerifier.identity(real),
                1,
                0755,
                0xEF53,
                false,
                false,
                real.toString(),
                false,
                0));
      }
      // As the ring reader hands them over: a list per round, from Flux.create.
      Flux<List<RuntimeEvent>> rounds =
          Flux.create(
              sink -> {
                TaskContext previous = null;
                for (int i = 0; i < execs && !stopped(); i++) {
                  ExecutableFile exe = made.get(i % made.size());
                  int pid = FIRST_PID + (i % FIRST_PID); // never past 2^24
                  TaskContext task = new TaskContext(pid, pid, 0, 0, 0, "warm-up");
                  long now = System.nanoTime();
                  // A round as the probe sends one: the previous process's exit (exits wake no
                  // reader, so it comes with the next exec), the exec, and a library mapped by the
                  // new process (another of the files; a cache miss there waits for a lane).
                  List<RuntimeEvent> round = new ArrayList<>(3);
                  if (previous != null) {
                    round.add(new ExitEvent(now, previous, 0));
                  }
                  // Its parent the process that just exited: a departed pid is looked up too.
                  int parent = previous != null ? previous.tgid() : FIRST_PID - 1;
                  round.add(
                      new ExecEvent(now, task, parent, pid, 0, 0, exe.path(), false, exe, false));
                  round.add(
                      new ExecMappingEvent(
                          now,
                          task,
                          MAPPED_AT,
                          4096,
                          0,
                          PROT_EXEC,
                          MAP_PRIVATE,
                          MappingSource.MMAP,
                          3,
                          made.get((i + 1) % made.size())));
                  if (i % ANONYMOUS_EVERY == 0) {
                    // A JIT's code: an anonymous executable mapping of the new process.
                    round.add(
                        new AnonymousExecEvent(
                            now,
                            task,
                            MAPPED_AT + 4096,
                            4096,
                            PROT_EXEC,
                            MAP_PRIVATE,
                            MappingSource.MMAP));
                  }
                  sink.next(round);
                  previous = task;
                  stepDone();
                }
                if (previous != null) {
                  sink.next(List.of(new ExitEvent(System.nanoTime(), previous, 0)));
                }
                sink.complete();
              });
      scratch.runBatches(rounds, Flux.empty()).blockLast();
    } catch (IOException | RuntimeException e) {
      if (stopped()) {
        return; // the agent is closing: its lanes and timer may be gone already
      }
      err.println(
          "veriruntime: pipeline warm-up stopped after "
              + done()
              + " execs of "
              + made.size()
              + " executables: "
              + e);
      return;
    }
    if (!stopped()) {
      // Its 10,000 execs in a second kept the young collections so busy that what they held for
      // a while (incident groups, aggregation windows, departed processes) was promoted: 17 MiB
      // of old generation, garbage now that the scratch pipeline is gone. Left there, it brought
      // the agent's first full collection (50-100 ms with every thread stopped) into its first
      // minute of watching; collected here, it costs one shorter pause while the agent is still
      // starting (benchmarks/README.md, "Calm tail: full collections").
      scratch = null;
      System.gc();
      err.printf(
          "veriruntime: pipeline warmed up (%d execs of %d executable%s in %.1f s)%n",
          done(), made.size(), made.size() == 1 ? "" : "s", (System.nanoTime() - start) / 1e9);
    }
  }
}
