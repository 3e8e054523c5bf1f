package dev.veriruntime.pipeline;

import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * The product's main data path, assembled from named stages:
 *
 * <pre>
 * RuntimeEvent ─track─▶ ─verify─▶ Observation ─classify─▶ SecurityEvent ┐
 *        drop reports, heartbeat gaps, other reports ──┴─incidents─▶ ─aggregate─▶ ─sinks─▶
 * </pre>
 *
 * <p>The incident stage (when {@link Components#incidents} is given) groups findings about one
 * process and moment into one event and keeps each condition about a running process as one
 * incident: reported once, then only reminded with back-off, and resolved when it ends; the
 * aggregation after it folds the same finding across processes.
 *
 * <p>{@link #run} returns the events handed to the sinks (after aggregation). When {@code events}
 * completes, periodic reporters stop, pending aggregates and a last drop report are flushed, and
 * the result completes; with a live probe it runs until the probe is closed.
 *
 * <p>Up to classification the stages work on batches, one per ring-buffer round ({@link
 * #runBatches}): a busy host's execs and mappings of verified files then cost one Reactor signal
 * per round rather than several per record, and classification emits only what has something to
 * say. {@link #run} takes single events (tests, tools) as batches of one.
 *
 * <pre>{@code
 * Pipeline p = new Pipeline(components);
 * p.runBatches(EventSource.liveBatches(probe), Flux.empty()).blockLast();
 * }</pre>
 */
public final class Pipeline {
  private final TrackStage track;
  private final VerifyStage verify;
  private final ClassifyStage classify;
  private final IncidentStage incidents;
  private final AggregateStage aggregate;
  private final SinkStage sinks;
  private final DropReporter drops;
  private final GapDetector gaps;

  /** Everything the stages share, built once by the daemon (or a test). */
  public record Components(
      ExecutableVerification verification,
      ProcessTable table,
      Classifier classifier,
      Set<String> jitAllowance,
      DropLedger ledger,
      PipelineMetrics metrics,
      List<SinkStage.Route> routes,
      Duration aggregationWindow,
      int aggregationKeys,
      Duration dropReportPeriod,
      int maxInFlight,
      Scheduler timer,
      GapDetector gapDetector,
      String host,
      MappingFilter mappingFilter,
      IncidentBook incidents,
      BuildLineage lineage) {

    /** Without incidents and build lineage: every finding goes to aggregation as it is. */
    public Components(
        ExecutableVerification verification,
        ProcessTable table,
        Classifier classifier,
        Set<String> jitAllowance,
        DropLedger ledger,
        PipelineMetrics metrics,
        List<SinkStage.Route> routes,
        Duration aggregationWindow,
        int aggregationKeys,
        Duration dropReportPeriod,
        int maxInFlight,
        Scheduler timer,
        GapDetector gapDetector,
        String host,
        MappingFilter mappingFilter) {
      this(
          verification,
          table,
          classifier,
          jitAllowance,
          ledger,
          metrics,
          routes,
          aggregationWindow,
          aggregationKeys,
          dropReportPeriod,
          maxInFlight,
          timer,
          gapDetector,
          host,
          mappingFilter,
          null,
          BuildLineage.OFF);
    }
  }

  /**
   * The shortest time between two ticks of the incident stage (it ticks when the book has something
   * due, see {@link IncidentStage}): a quarter of the default act window, so an act's first report
   * waits at most 50 ms past its window.
   */
  static final Duration INCIDENT_TICK = Duration.ofMillis(50);

  public Pipeline(Components c) {
    this.track = new TrackStage(c.table(), c.ledger(), c.metrics(), c.lineage());
    this.verify =
        new VerifyStage(c.verification(), c.table(), c.metrics(), c.maxInFlight(), c.lineage());
    this.classify =
        new ClassifyStage(
            c.classifier(),
            c.table(),
            c.jitAllowance(),
            c.metrics(),
            c.ledger(),
            c.mappingFilter(),
            c.incidents());
    this.incidents =
        c.incidents() == null ? null : new IncidentStage(c.incidents(), INCIDENT_TICK, c.timer());
    if (c.incidents() != null) {
      c.metrics().bind(c.incidents());
    }
    this.aggregate = new AggregateStage(c.aggregationWindow(), c.aggregationKeys(), c.timer());
    this.sinks = new SinkStage(c.routes(), c.ledger());
    this.drops = new DropReporter(c.ledger(), sinks, c.dropReportPeriod(), c.timer(), c.host());
    this.gaps = c.gapDetector();
  }

  /**
   * Runs the data path.
   *
   * @param events domain events (start-up scan, then the live probe)
   * @param reports other security events to deliver (self-integrity, re-attestation, recovery);
   *     like the periodic reporters, they stop when {@code events} completes
   */
  public Flux<SecurityEvent> run(Flux<RuntimeEvent> events, Flux<SecurityEvent> reports) {
    return runBatches(events.map(List::of), reports);
  }

  /**
   * Runs the data path on batches of events (each batch in order, for example one ring-buffer
   * round); otherwise as {@link #run}.
   */
  public Flux<SecurityEvent> runBatches(
      Flux<List<RuntimeEvent>> batches, Flux<SecurityEvent> reports) {
    Flux<SecurityEvent> detected = batches.transform(track).transform(verify).transform(classify);
    Flux<SecurityEvent> periodic =
        gaps == null ? drops.reports() : Flux.merge(drops.reports(), gaps.gaps());
    return detected
        .publish(
            shared ->
                Flux.merge(
                        shared,
                        Flux.merge(reports, periodic).takeUntilOther(shared.ignoreElements()))
                    .concatWith(Flux.defer(() -> Flux.fromIterable(drops.report()))))
        .transform(incidentsOrNothing())
        .transform(aggregate)
        .transform(sinks);
  }

  private Function<Flux<SecurityEvent>, Flux<SecurityEvent>> incidentsOrNothing() {
    return incidents == null ? Function.identity() : incidents;
  }

  public SinkStage sinkStage() {
    return sinks;
  }
}
