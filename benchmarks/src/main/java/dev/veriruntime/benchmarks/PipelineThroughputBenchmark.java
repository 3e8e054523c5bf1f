package dev.veriruntime.benchmarks;

import dev.veriruntime.agent.Policy;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.TaskContext;
import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.pipeline.DropLedger;
import dev.veriruntime.pipeline.ExecutableVerification;
import dev.veriruntime.pipeline.MappingFilter;
import dev.veriruntime.pipeline.Pipeline;
import dev.veriruntime.pipeline.PipelineMetrics;
import dev.veriruntime.pipeline.ProcessTable;
import dev.veriruntime.pipeline.SinkStage;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.SinkStats;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.reference.ReferenceStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The real {@link Pipeline} (track → verify → classify → aggregate → sinks, built as the daemon
 * builds it from the default policy) on synthetic exec events of four already-verified binaries,
 * the steady state of a build server: every exec a cache hit. The sink is a counting no-op, so the
 * number is the pipeline's own cost per event. {@code verdict=unknown}: no references and no
 * package database, so every exec is an UNKNOWN_EXECUTION that the aggregator folds; {@code
 * verdict=verified}: the package database vouches for the binaries, so no event reaches the sink.
 * {@code identityStagesBaseline} runs the same number of events through a Flux of the same shape
 * with pass-through stages: what Reactor itself costs. {@code batch}: events per element, as the
 * agent's ring-buffer reader hands them ({@link Pipeline#runBatches}, one list per ring round; 1 is
 * one element per event, what the pipeline cost before batching; 16 is about what a round holds
 * under an exec storm, 500 µs of records).
 *
 * <p>Microseconds per event (each operation is {@value #EVENTS} events; overrides the base class's
 * milliseconds); events/s = 10⁶ ÷ score. Run: {@code java -jar benchmarks/target/benchmarks.jar
 * PipelineThroughputBenchmark}.
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PipelineThroughputBenchmark extends AbstractBenchmark {
  static final int EVENTS = 10_000;
  private static final List<String> BINARIES =
      List.of("/usr/bin/ls", "/usr/bin/cat", "/usr/bin/env", "/usr/bin/true");

  @Param({"unknown", "verified"})
  public String verdict;

  @Param({"1", "16"})
  public int batch;

  private Scheduler timer;
  private Scheduler lanes;
  private Pipeline pipeline;
  private RuntimeEvent[] events;
  private List<List<RuntimeEvent>> batches;
  private final CountingSink sink = new CountingSink();
  private SecurityEvent constant;

  @Setup(Level.Trial)
  public void build() throws IOException {
    Policy policy = Policy.defaults();
    PackageDatabase packages =
        switch (verdict) {
          case "unknown" -> PackageDatabase.empty();
          case "verified" -> PackageDatabase.load(PackageDatabase.DEFAULT_INFO_DIR);
          default -> throw new IllegalArgumentException("verdict: unknown or verified");
        };
    Set<dev.veriruntime.verifier.Scope> scopes = EnumSet.copyOf(policy.execScopes);
    scopes.retainAll(BinaryVerifier.BINARY_SCOPES);
    BinaryVerifier verifier =
        new BinaryVerifier(
            ReferenceStore.empty(),
            packages,
            Clock.systemUTC(),
            new BinaryVerifier.Options(scopes, ElfHeader.hostMachine()));
    timer = Schedulers.newSingle("bench-timer", true);
    lanes =
        Schedulers.newBoundedElastic(
            policy.verification.concurrency, policy.verification.queue, "bench-verify");
    DropLedger ledger = new DropLedger();
    PipelineMetrics metrics = new PipelineMetrics(new SimpleMeterRegistry());
    ExecutableVerification verification =
        new ExecutableVerification(
            verifier,
            policy.verification.cacheEntries,
            lanes,
            lanes,
            policy.verification.largeFileBytes,
            1024,
            new ExecutableVerification.Inline(
                policy.verification.inlineMaxBytes,
                Duration.ofMillis(policy.verification.inlineMillisPerSecond)),
            metrics,
            ledger);
    pipeline =
        new Pipeline(
            new Pipeline.Components(
                verification,
                new ProcessTable(1 << 20, ledger),
                new Classifier(Clock.systemUTC(), "bench"),
                new HashSet<>(policy.jitAllowance),
                ledger,
                metrics,
                List.of(SinkStage.route(sink, 1e12, Integer.MAX_VALUE, timer)),
                Duration.ofSeconds(policy.aggregation.windowSeconds),
                policy.aggregation.maxKeys,
                Duration.ofSeconds(policy.aggregation.dropReportSeconds),
                policy.verification.queue,
                timer,
                null,
                "bench",
                MappingFilter.NONE));

    FileIdentity[] ids = new FileIdentity[BINARIES.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = BinaryVerifier.identity(Path.of(BINARIES.get(i)));
    }
    events = new RuntimeEvent[EVENTS];
    long now = System.nanoTime();
    for (int i = 0; i < EVENTS; i++) {
      int b = i % ids.length;
      events[i] = exec(now, 10_000 + (i % 4096), BINARIES.get(b), ids[b]);
    }
    batches = new java.util.ArrayList<>();
    for (int i = 0; i < EVENTS; i += batch) {
      batches.add(List.of(java.util.Arrays.copyOfRange(events, i, Math.min(EVENTS, i + batch))));
    }
    // Verify each binary once: from here on every exec is a cache hit.
    pipeline.run(Flux.fromArray(events).take(ids.length), Flux.empty()).blockLast();
    for (FileIdentity id : ids) {
      var check =
          verification.hit(id).orElseThrow(() -> new IllegalStateException("not cached: " + id));
      boolean vouched = check.verification().verdict() == dev.veriruntime.verifier.Verdict.VERIFIED;
      if (vouched != verdict.equals("verified")) {
        throw new IllegalStateException(
            "verdict="
                + verdict
                + " but "
                + check.path()
                + " is "
                + check.verification().verdict());
      }
    }
    constant =
        SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, Instant.now())
            .host("bench")
            .reason("baseline")
            .build();
  }

  @TearDown(Level.Trial)
  public void stop() {
    timer.dispose();
    lanes.dispose();
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public SecurityEvent pipeline() {
    return pipeline.runBatches(Flux.fromIterable(batches), Flux.empty()).blockLast();
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public SecurityEvent identityStagesBaseline() {
    Function<Flux<RuntimeEvent>, Flux<RuntimeEvent>> track = Function.identity();
    Function<Flux<RuntimeEvent>, Flux<RuntimeEvent>> verify = Function.identity();
    Function<Flux<SecurityEvent>, Flux<SecurityEvent>> aggregate = Function.identity();
    Function<Flux<SecurityEvent>, Flux<SecurityEvent>> sinks = f -> f.doOnNext(sink::emit);
    return Flux.fromArray(events)
        .transform(track)
        .transform(verify)
        .map(e -> constant)
        .transform(aggregate)
        .transform(sinks)
        .blockLast();
  }

  private static ExecEvent exec(long kernelTimeNanos, int pid, String path, FileIdentity id) {
    ExecutableFile file =
        new ExecutableFile(
            new FileIdentity(id.dev(), id.inode(), id.ctimeNanos(), id.size()),
            1,
            0100755,
            0xEF53,
            false,
            false,
            path,
            false,
            0);
    String comm = path.substring(path.lastIndexOf('/') + 1);
    return new ExecEvent(
        kernelTimeNanos,
        new TaskContext(pid, pid, 1000, 1000, 4242, comm),
        9_999,
        pid,
        1000,
        1000,
        path,
        false,
        file,
        false);
  }

  /** Counts what reaches it and keeps nothing. */
  private static final class CountingSink implements Sink {
    private final LongAdder accepted = new LongAdder();

    @Override
    public String name() {
      return "bench";
    }

    @Override
    public boolean emit(SecurityEvent event) {
      accepted.increment();
      return true;
    }

    @Override
    public reactor.core.publisher.Mono<Void> flush() {
      return reactor.core.publisher.Mono.empty();
    }

    @Override
    public SinkStats stats() {
      long n = accepted.sum();
      return new SinkStats("bench", n, n, 0, 0, 0, Integer.MAX_VALUE, null);
    }

    @Override
    public void close() {}

    @Override
    public void close(Duration wait) {}
  }
}
