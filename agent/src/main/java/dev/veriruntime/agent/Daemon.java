package dev.veriruntime.agent;

import dev.veriruntime.agent.ui.EventFanOut;
import dev.veriruntime.agent.ui.UiServer;
import dev.veriruntime.api.ApiServer;
import dev.veriruntime.api.EventHub;
import dev.veriruntime.api.GrpcServer;
import dev.veriruntime.api.LocalCoreApi;
import dev.veriruntime.api.intake.AlertIntake;
import dev.veriruntime.ingest.EventSource;
import dev.veriruntime.ingest.Probe;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.ProbeSpec;
import dev.veriruntime.ingest.ProcScanner;
import dev.veriruntime.ingest.ProgramAttachment;
import dev.veriruntime.ingest.RingBufferReader;
import dev.veriruntime.ingest.event.FollowReason;
import dev.veriruntime.ingest.event.InjectionEvent;
import dev.veriruntime.ingest.event.InjectionTechnique;
import dev.veriruntime.ingest.event.RemoteWriteDone;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.kernel.ThreadPriority;
import dev.veriruntime.pipeline.BuildLineage;
import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.pipeline.DropLedger;
import dev.veriruntime.pipeline.ExecutableVerification;
import dev.veriruntime.pipeline.GapDetector;
import dev.veriruntime.pipeline.IncidentBook;
import dev.veriruntime.pipeline.MappingFilter;
import dev.veriruntime.pipeline.Pipeline;
import dev.veriruntime.pipeline.PipelineMetrics;
import dev.veriruntime.pipeline.ProcessLiveness;
import dev.veriruntime.pipeline.ProcessTable;
import dev.veriruntime.pipeline.SinkStage;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.SinkStats;
import dev.veriruntime.sinks.console.ConsoleSink;
import dev.veriruntime.sinks.journal.JournalSink;
import dev.veriruntime.sinks.kafka.KafkaOptions;
import dev.veriruntime.sinks.kafka.KafkaSecurity;
import dev.veriruntime.sinks.kafka.KafkaSink;
import dev.veriruntime.sinks.metrics.PrometheusSink;
import dev.veriruntime.sinks.syslog.SyslogSink;
import dev.veriruntime.sinks.webhook.WebhookOptions;
import dev.veriruntime.sinks.webhook.WebhookPayload;
import dev.veriruntime.sinks.webhook.WebhookSink;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.process.ExecutableVerifier;
import dev.veriruntime.verifier.process.ProcFs;
import dev.veriruntime.verifier.process.ProcessPolicy;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.ReattestationPlanner;
import dev.veriruntime.verifier.process.ReattestationScheduler;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import dev.veriruntime.verifier.reference.ReferenceStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The running agent behind {@code veriruntime watch}: loads the probe, builds the sinks and the
 * {@link Pipeline} from the {@link Policy}, checks its own integrity, and runs until {@link #stop}
 * (Ctrl-C, SIGTERM) or the optional duration. Stopping detaches the probe, which completes the
 * event stream, so pending aggregates and drop counts are flushed before the sinks close.
 *
 * <p>It is the one composition root: {@link #start} builds the parts in named {@link Step}s and
 * registers everything with a thread, a descriptor or a BPF link in {@link Resources} the moment it
 * exists; {@link #close} (or a step that fails) closes all of it in reverse order.
 *
 * <p>With the package database trusted, it is a {@link LivePackageDatabase}: reloaded after the
 * package manager changes it, each reload re-validated by {@link PackageRevalidation}.
 *
 * <p>With {@link Settings#apiSocket} set it also serves the Core API ({@code dev.veriruntime.api})
 * on that Unix socket over its own verifiers, runtime state, journal and counters, and the same
 * calls plus the event stream as gRPC on {@link GrpcServer#socketBeside} it (and on TCP with mutual
 * TLS when {@link Settings#grpcTcp} asks); a socket that cannot be bound is a {@code
 * VERIFICATION_DEGRADED} startup report, not a failure to start. The stream follows the journal:
 * the journal sink publishes each event to the {@link EventHub} once it is durable, with its
 * sequence number; without a journal an {@link EventStreamSink} does, numbering from 1.
 */
public final class Daemon implements AutoCloseable {
  /** How often the package database's signature is read: two stat calls. */
  private static final Duration PACKAGE_POLL = Duration.ofSeconds(1);

  /** dpkg writes one package after another; reload once it has been quiet this long. */
  private static final Duration PACKAGE_QUIET = Duration.ofSeconds(2);

  /** A quietly started process still running after this is adopted into the process table. */
  private static final Duration QUIET_ADOPTION = Duration.ofSeconds(1);

  /**
   * How long {@link #close} waits for the sinks to deliver what they still hold: for all of them
   * together ({@link SinkDeadline}).
   */
  private static final Duration SINK_FLUSH = Duration.ofSeconds(5);

  private final Settings settings;
  private final Probe probe;
  private final Pipeline pipeline;
  private final PipelineWarmUp warmUp; // null: none
  private final PipelineMetrics metrics;
  private final Sinks.Empty<Void> stopSignal = Sinks.empty();
  private final List<SecurityEvent> startupReports;
  private final Reattestation reattestation;
  private final SelfIntegrityMonitor selfIntegrity;
  private final Flux<SecurityEvent> packageReports;
  private final QuietProcesses quiet;
  private final Scheduler timer;
  private final AlertVerification alerts;
  private final AlertIntake intake;
  private final PrintStream err;
  private final Resources resources;
  private final UiServer ui;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** How long the gRPC event stream lets a client fall behind: live events queued per client. */
  static final int STREAM_QUEUE = 4096;

  /** Event streams open at once. */
  static final int MAX_STREAMS = 32;

  /** The loss place of events a stream client missed because it was cut off for being slow. */
  static final String STREAM_CUT_OFF = "sink.stream.cut_off";

  /**
   * A TCP listener of the gRPC API; there is no plain TCP, so the TLS files are part of it.
   *
   * @param address where to listen (port 0: any free port)
   * @param tls the server's certificate and key, and the CA that signs client certificates
   */
  public record GrpcTcp(InetSocketAddress address, GrpcServer.Tls tls) {}

  /**
   * What the command line decided.
   *
   * @param apiSocket where to serve the control API ({@code ApiServer.DEFAULT_SOCKET} for {@code
   *     watch}); null: no control API
   * @param uiPort the web view's port on 127.0.0.1 ({@code watch --ui-port}); 0 for any free port,
   *     negative for no web view
   * @param grpcTcp also serve the gRPC API on TCP with mutual TLS; null: Unix socket only
   */
  public record Settings(
      Policy policy,
      ReferenceStore references,
      boolean json,
      Path stateDir,
      Path journalDir,
      boolean journal,
      boolean scan,
      Path apiSocket,
      int uiPort,
      GrpcTcp grpcTcp) {

    /** Settings without a web view or gRPC on TCP. */
    public Settings(
        Policy policy,
        ReferenceStore references,
        boolean json,
        Path stateDir,
        Path journalDir,
        boolean journal,
        boolean scan,
        Path apiSocket) {
      this(policy, references, json, stateDir, journalDir, journal, scan, apiSocket, -1, null);
    }

    /** Settings without a control API. */
    public Settings(
        Policy policy,
        ReferenceStore references,
        boolean json,
        Path stateDir,
        Path journalDir,
        boolean journal,
        boolean scan) {
      this(policy, references, json, stateDir, journalDir, journal, scan, null, -1, null);
    }
  }

  /**
   * The steps of {@link #start}, in order. What a step builds is closed again when a later step
   * fails, and by {@link #close}, in the reverse order.
   */
  enum Step {
    TIMER,
    VERIFICATION_LANES,
    SINKS,
    PACKAGE_DATABASE,
    SELF_CHECK,
    PROBE,
    REATTESTATION,
    PIPELINE,
    SELF_INTEGRITY_MONITOR,
    CONTROL_API,
    PACKAGE_REVALIDATION
  }

  /** Called before each step of start-up; tests throw from it to make start-up fail there. */
  @FunctionalInterface
  interface StartupHook {
    StartupHook NONE = step -> {};

    void before(Step step) throws IOException;
  }

  private Daemon(Assembly a) {
    this.settings = a.settings;
    this.probe = a.probe;
    this.pipeline = a.pipeline;
    this.warmUp = a.warmUp;
    this.metrics = a.metrics;
    this.startupReports = a.reports;
    this.reattestation = a.reattestation;
    this.selfIntegrity = a.monitor;
    this.packageReports = a.packageReports;
    this.quiet = a.quiet;
    this.timer = a.timer;
    this.alerts = a.alerts;
    this.intake = a.intake;
    this.err = a.err;
    this.resources = a.resources;
    this.ui = a.ui;
  }

  /** The web view's address with its token; empty when it was not asked for or not bound. */
  public Optional<String> uiUrl() {
    return Optional.ofNullable(ui).map(UiServer::url);
  }

  /**
   * Builds everything and loads the probe (attached from here on: execs wait in the kernel ring).
   * When a step fails, what the earlier steps built is closed in reverse order, the step is named
   * on {@code err}, and the step's own exception is thrown (with any close failure suppressed into
   * it).
   *
   * @throws IOException if the state directory or the journal cannot be opened
   * @throws dev.veriruntime.ingest.ProbeException if the probe cannot be loaded or attached
   */
  public static Daemon start(
      Settings s, ProbeSettings probeSettings, PrintStream out, PrintStream err)
      throws IOException {
    return start(s, probeSettings, out, err, StartupHook.NONE);
  }

  /** As {@link #start(Settings, ProbeSettings, PrintStream, PrintStream)}, with a test seam. */
  static Daemon start(
      Settings s, ProbeSettings probeSettings, PrintStream out, PrintStream err, StartupHook hook)
      throws IOException {
    return start(s, probeSettings, out, err, hook, List.of());
  }

  /** As above; tests add files to the agent's own watched set ({@code extraSelfFiles}). */
  static Daemon start(
      Settings s,
      ProbeSettings probeSettings,
      PrintStream out,
      PrintStream err,
      StartupHook hook,
      List<Path> extraSelfFiles)
      throws IOException {
    Resources resources = new Resources(err);
    Assembly a = new Assembly(s, out, err, resources, hook);
    a.extraSelfFiles = List.copyOf(extraSelfFiles);
    try {
      return a.build(probeSettings);
    } catch (Throwable t) {
      err.println(
          "veriruntime: start-up failed at step "
              + a.step
              + ": "
              + t
              + "; closing what was built: "
              + resources.openNames());
      resources.closeAll(t);
      throw t;
    }
  }

  /** Runs until {@link #stop} or {@code duration} (null: no limit). */
  public void run(Duration duration) {
    // One list per ring-buffer round (see Pipeline#runBatches); scan and adoptions join as lists.
    Flux<List<RuntimeEvent>> live =
        EventSource.liveBatches(probe)
            .takeUntilOther(stopSignal.asMono())
            .doOnNext(batch -> batch.forEach(this::verifyWrittenProcess));
    if (duration != null) {
      live = live.take(duration);
    }
    live =
        live.publish(
            l ->
                Flux.merge(
                    l,
                    quiet
                        .adoptions(QUIET_ADOPTION, timer)
                        .map(List::of)
                        .takeUntilOther(l.ignoreElements())));
    Flux<RuntimeEvent> scan = EventSource.startupScan(new ProcScanner());
    if (warmUp != null) {
      // Made of what the scan found running, and after it, so that its events are known too.
      scan = scan.doOnNext(warmUp::sample);
      live = live.doOnSubscribe(s -> warmUp.start());
    }
    Flux<List<RuntimeEvent>> events =
        settings.scan() ? Flux.concat(scan.buffer(EventSource.MAX_BATCH), live) : live;
    Flux<SecurityEvent> reports =
        Flux.merge(Flux.fromIterable(startupReports), selfIntegrity.events(), packageReports);
    if (reattestation != null) {
      reports = Flux.merge(reports, reattestation.events());
    }
    if (alerts != null) {
      reports = Flux.merge(reports, alerts.events());
    }
    pipeline
        .runBatches(events, reports)
        .doOnSubscribe(
            s -> {
              err.println("veriruntime: watching (pid " + ProcessHandle.current().pid() + ")");
              err.flush();
            })
        .blockLast();
  }

  /**
   * Another process wrote into a process's memory: verify that process now rather than at its next
   * re-attestation, once the write has landed: a /proc/PID/mem write is reported when it completed;
   * a ptrace poke or process_vm_writev is reported at syscall entry (the alert) and, when it
   * succeeded, again at its exit ({@link RemoteWriteDone}). Verifying on the entry record read the
   * old bytes whenever the writer was preempted inside the call (seen in CI).
   */
  private void verifyWrittenProcess(RuntimeEvent event) {
    if (reattestation == null) {
      return;
    }
    if (event instanceof RemoteWriteDone d && d.targetPid() > 0) {
      reattestation.verifyAtOnce(d.targetPid(), d.technique().name());
    } else if (event instanceof InjectionEvent i
        && i.technique() == InjectionTechnique.PROC_PID_MEM_WRITE
        && i.targetPid() > 0) {
      reattestation.verifyAtOnce(i.targetPid(), i.technique().name());
    }
  }

  /** Asks {@link #run} to finish: the stream completes, aggregates and drop counts are flushed. */
  public void stop() {
    stopSignal.tryEmitEmpty();
  }

  public PipelineMetrics metrics() {
    return metrics;
  }

  /**
   * The alert intake behind the control API's {@code POST /v1/alerts} (and gRPC's {@code
   * SubmitAlert}); empty when the control API or the intake is off.
   */
  public Optional<AlertIntake> alertIntake() {
    return Optional.ofNullable(intake);
  }

  /**
   * Closes everything {@link #start} built, in reverse order: the control API first (no caller is
   * answered from a daemon half torn down), then the periodic checks, then the probe (detaching it
   * completes the event stream, so pending aggregates and drop counts reach the sinks), then each
   * sink after a flush, and last the verification lanes and the timer. A failure to close one is
   * printed and does not stop the others. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    resources.closeAll(null);
  }

  /** The loaded probe (tests damage it to see self-integrity notice). */
  Probe probe() {
    return probe;
  }

  /** The names of what is still open, the most recent first: empty after {@link #close}. */
  List<String> openResources() {
    return resources.openNames();
  }

  /**
   * Start-up, one step after another: each step builds one group of parts and registers what it
   * opens in {@link Resources} the moment it exists.
   */
  private static final class Assembly {
    final Settings settings;
    final Policy policy;
    final PrintStream out;
    final PrintStream err;
    final Resources resources;
    final StartupHook hook;
    final String host = hostName();
    final Clock clock = Clock.systemUTC();
    final List<SecurityEvent> reports = new ArrayList<>();
    final Classifier classifier;
    final DropLedger ledger = new DropLedger();
    final List<Sink> sinks = new ArrayList<>();
    final List<SinkStage.Route> routes = new ArrayList<>();
    final SinkDeadline sinkDeadline = new SinkDeadline(SINK_FLUSH);
    Step step;
    Scheduler timer;
    Scheduler smallLane;
    Scheduler largeLane;
    JournalSink journal;

    /** Set once the sinks exist; read by the journal's drain thread. */
    final AtomicReference<EventHub> events = new AtomicReference<>();

    MeterRegistry registry;
    PipelineMetrics metrics;
    LivePackageDatabase livePackages;
    Supplier<PackageDatabase> packages;
    Set<String> jitAllowance;
    SelfIntegrity self;
    Map<String, Path> ownPackaged = Map.of();
    IncidentBook incidents;
    Set<Scope> binaryScopes;
    BinaryVerifier verifier;
    ExecutableVerification verification;
    ProcessTable table;
    GapDetector gaps;
    Probe probe;
    QuietProcesses quiet;
    RunMarker.Gap previousRun;
    List<Path> extraSelfFiles = List.of();
    SelfWatch selfWatch = SelfWatch.NONE;
    RuntimeStateRegistry state;
    PreviousPackageVersions previousVersions;
    ProcessVerifier processes;
    Reattestation reattestation;
    MappingFilter mappingFilter;
    BuildLineage lineage = BuildLineage.OFF;
    Pipeline pipeline;
    PipelineWarmUp warmUp;
    SelfIntegrityMonitor monitor;
    EventFanOut uiEvents;
    UiServer ui;
    final SelfIntegrityStatus selfStatus = new SelfIntegrityStatus();
    Flux<SecurityEvent> packageReports;
    AlertIntake intake;
    AlertVerification alerts;

    Assembly(
        Settings settings,
        PrintStream out,
        PrintStream err,
        Resources resources,
        StartupHook hook) {
      this.settings = settings;
      this.policy = settings.policy();
      this.out = out;
      this.err = err;
      this.resources = resources;
      this.hook = hook;
      this.classifier = new Classifier(clock, host);
    }

    Daemon build(ProbeSettings probeSettings) throws IOException {
      enter(Step.TIMER);
      timer = resources.register("timer", GridTimer.scheduler("veriruntime-timer"));
      enter(Step.VERIFICATION_LANES);
      startVerificationLanes();
      enter(Step.SINKS);
      buildSinks();
      enter(Step.PACKAGE_DATABASE);
      openPackageDatabase();
      buildVerification();
      enter(Step.SELF_CHECK);
      checkSelfIntegrity();
      enter(Step.PROBE);
      openProbe(probeSettings);
      watchSelf();
      enter(Step.REATTESTATION);
      buildProcessVerification();
      startReattestation();
      enter(Step.PIPELINE);
      buildPipeline();
      enter(Step.SELF_INTEGRITY_MONITOR);
      startSelfIntegrityMonitor();
      enter(Step.CONTROL_API);
      serveApi();
      enter(Step.PACKAGE_REVALIDATION);
      revalidatePackages();
      warmUpVerifier();
      warmUpPipeline();
      warmUpReattestation();
      return new Daemon(this);
    }

    private void enter(Step next) throws IOException {
      step = next;
      hook.before(next);
    }

    /**
     * Built before the sinks so that they are disposed after them: a verification still running
     * when the probe is detached can finish and its event reach the sinks' last flush.
     */
    private void startVerificationLanes() {
      smallLane =
          resources.register(
              "verification lane",
              Schedulers.newBoundedElastic(
                  Math.max(1, policy.verification.concurrency),
                  policy.verification.queue,
                  "veriruntime-verify"));
      largeLane =
          resources.register(
              "large-file verification lane",
              Schedulers.newBoundedElastic(
                  1, policy.verification.queue, "veriruntime-verify-large"));
    }

    /** The sinks the policy asks for, each behind its rate; the meter registry they expose. */
    private void buildSinks() throws IOException {
      registry = new SimpleMeterRegistry();
      if (policy.sinks.metricsPort > 0) {
        PrometheusSink prometheus =
            PrometheusSink.start(
                "127.0.0.1", policy.sinks.metricsPort, 1024, Schedulers.boundedElastic());
        addSink(prometheus, 10_000, 10_000);
        registry = prometheus.registry();
        // The JVM's collections (jvm.gc.pause by action and cause, jvm.gc.memory.allocated): a
        // young collection stops the ring reader for its whole pause, which is what a calm exec's
        // verdict waits for in its worst moments (benchmarks/README.md, "Calm tail: what stops the
        // reader").
        JvmGcMetrics gc = resources.register("GC metrics", new JvmGcMetrics());
        gc.bindTo(registry);
      }
      if (policy.sinks.console.enabled) {
        ConsoleSink console = settings.json() ? ConsoleSink.jsonLines(out) : ConsoleSink.human(out);
        addSink(console, policy.sinks.console.rate, policy.sinks.console.burst);
      }
      if (settings.journal() && policy.sinks.journal.enabled) {
        openJournal();
      }
      if (settings.apiSocket() != null) {
        startEventStream();
      }
      if (!policy.sinks.webhook.isBlank()) {
        WebhookSink webhook =
            new WebhookSink(
                WebhookOptions.defaults(
                    URI.create(policy.sinks.webhook), payload(policy.sinks.webhookFormat)));
        addSink(webhook, policy.sinks.webhookRate, 20);
      }
      if (!policy.sinks.slack.isBlank()) {
        WebhookSink slack =
            new WebhookSink(
                WebhookOptions.defaults(URI.create(policy.sinks.slack), WebhookPayload.SLACK));
        addSink(slack, Math.min(1, policy.sinks.webhookRate), 10);
      }
      if (!policy.sinks.syslog.isBlank()) {
        SyslogSink syslog =
            SyslogSink.open(
                syslogTarget(policy.sinks.syslog),
                SyslogSink.AUTHPRIV,
                Schedulers.boundedElastic());
        addSink(syslog, policy.sinks.syslogRate, 200);
      }
      if (!policy.sinks.kafka.bootstrap.isBlank()) {
        KafkaSink kafka = KafkaSink.open(kafkaOptions(policy.sinks.kafka), host, clock, null);
        addSink(kafka, policy.sinks.kafka.rate, policy.sinks.kafka.burst);
      }
      if (settings.uiPort() >= 0) {
        // Display only: a page shows at most this many events a second; what it cannot take is
        // counted as dropped like any sink's, and its Health shows the count.
        uiEvents = new EventFanOut(4096, 256, null);
        addSink(uiEvents, 200, 400);
      }
      metrics = new PipelineMetrics(registry);
    }

    private void openJournal() throws IOException {
      // Before anything is created in it: evidence and the node key never go through a link.
      new SafePaths().stateDirectory(settings.journalDir());
      Files.createDirectories(settings.journalDir());
      restrict(settings.journalDir());
      journal = JournalSink.open(settings.journalDir(), this::publishDurable);
      RunMarker marker;
      try {
        marker =
            RunMarker.open(
                settings.journalDir(), clock, RunMarker.bootId(), ProcessHandle.current().pid());
      } catch (IOException | RuntimeException e) {
        journal.close();
        throw e;
      }
      // Registered before the journal: removed (a clean stop) only after the journal closed.
      resources.register("run marker", marker);
      previousRun = marker.previousRunGap().orElse(null);
      addSink(journal, policy.sinks.journal.rate, policy.sinks.journal.burst);
      Disposable beats =
          timer.schedulePeriodically(
              marker::beat,
              RunMarker.BEAT.toMillis(),
              RunMarker.BEAT.toMillis(),
              TimeUnit.MILLISECONDS);
      resources.onClose("run marker heartbeat", beats::dispose);
      journal
          .recoveryReport()
          .ifPresent(
              r ->
                  reports.add(
                      classifier.degraded(
                          null,
                          "evidence journal had a torn tail after a crash: "
                              + r.bytesCut()
                              + " bytes cut from "
                              + r.file()
                              + " after record "
                              + r.lastGoodSeq()
                              + " (partial loss of evidence)",
                          Map.of(
                              "check",
                              "journal-recovery",
                              "file",
                              r.file(),
                              "bytesCut",
                              r.bytesCut()))));
    }

    /** On the journal's drain thread, after the event's batch is on disk. */
    private void publishDurable(long seq, SecurityEvent event) {
      EventHub hub = events.get();
      // Nobody follows: skip the JSON. One who subscribes now replays this event (it is durable).
      if (hub != null && hub.subscriptions() > 0) {
        hub.publish(seq, event.type().name(), EventJson.toJson(event));
      }
    }

    /**
     * The gRPC event stream's hub: over the journal when there is one (the journal publishes), else
     * fed by its own sink. A client cut off for being slow is a loss like any other (reported as
     * VERIFICATION_DEGRADED with the place {@link #STREAM_CUT_OFF}); it can replay from the
     * journal.
     */
    private void startEventStream() {
      Set<String> types = new HashSet<>();
      for (EventType t : EventType.values()) {
        types.add(t.name());
      }
      EventHub hub =
          new EventHub(
              types,
              journal == null ? EventHub.History.none() : new JournalHistory(journal.journal()),
              STREAM_QUEUE,
              MAX_STREAMS,
              lost -> ledger.add(STREAM_CUT_OFF, lost));
      events.set(hub);
      if (journal == null) {
        addSink(new EventStreamSink(hub), 10_000, 10_000);
      }
    }

    /** Registered as it is opened: flushed (for a while) and closed after the probe detaches. */
    private void addSink(Sink sink, double rate, int burst) {
      resources.onClose("sink " + sink.name(), () -> flushAndClose(sink, sinkDeadline, err));
      sinks.add(sink);
      routes.add(SinkStage.route(sink, rate, burst, timer));
    }

    private void openPackageDatabase() throws IOException {
      PackageDatabase none = PackageDatabase.empty();
      packages = () -> none;
      if (policy.packageDatabase) {
        Scheduler watcher =
            resources.register(
                "package database watcher", Schedulers.newSingle("veriruntime-packages", true));
        livePackages =
            LivePackageDatabase.open(
                Path.of(policy.packageDatabaseDir), PACKAGE_POLL, PACKAGE_QUIET, watcher);
        packages = livePackages;
      }
      // The policy, references and keys are hashed now: they were read just before start-up.
      self = SelfIntegrity.forThisProcess(packages).withConfigFiles(policy.files());
      ownPackaged = self.packagedFiles();
      jitAllowance = new HashSet<>(policy.jitAllowance);
      if (livePackages != null) {
        jitAllowance.addAll(JitRuntimes.vouchedFor(packages.get(), policy.jitRuntimePackages));
      }
      incidents =
          new IncidentBook(
              policy.incidents.settings(policy.aggregation.maxKeys, ProcessHandle.current().pid()),
              ProcessLiveness.proc());
    }

    /** See {@link VerifierWarmUp}: the JVM's launcher is an ELF file every agent can read. */
    private void warmUpVerifier() {
      if (policy.verification.warmUpRuns > 0) {
        resources.register(
            "verifier warm-up",
            VerifierWarmUp.start(
                verifier, Path.of("/proc/self/exe"), policy.verification.warmUpRuns, err));
      }
    }

    /** See {@link ProcessWarmUp}: only where rounds run. */
    private void warmUpReattestation() {
      if (reattestation != null && policy.reattestation.warmUpRuns > 0) {
        resources.register(
            "re-attestation warm-up",
            ProcessWarmUp.start(
                processes,
                (int) ProcessHandle.current().pid(),
                policy.reattestation.warmUpRuns,
                err));
      }
    }

    /** See {@link PipelineWarmUp}. */
    private void warmUpPipeline() {
      if (policy.verification.warmUpExecs > 0) {
        warmUp =
            resources.register(
                "pipeline warm-up",
                new PipelineWarmUp(
                    PipelineWarmUp.scratchPipeline(
                        policy,
                        verifier,
                        smallLane,
                        largeLane,
                        timer,
                        // Of the live registry's class: code compiled there meets the same meters.
                        registry instanceof PrometheusMeterRegistry
                            ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)
                            : new SimpleMeterRegistry(),
                        clock,
                        host),
                    Path.of("/proc/self/exe"),
                    policy.verification.warmUpExecs,
                    err));
      }
    }

    private void buildVerification() {
      binaryScopes = EnumSet.copyOf(policy.execScopes);
      binaryScopes.retainAll(BinaryVerifier.BINARY_SCOPES);
      verifier =
          new BinaryVerifier(
              settings.references(),
              packages,
              clock,
              new BinaryVerifier.Options(binaryScopes, ElfHeader.hostMachine()));
      verification =
          new ExecutableVerification(
              verifier,
              policy.verification.cacheEntries,
              smallLane,
              largeLane,
              policy.verification.largeFileBytes,
              1024,
              new ExecutableVerification.Inline(
                  policy.verification.inlineMaxBytes,
                  Duration.ofMillis(policy.verification.inlineMillisPerSecond)),
              metrics,
              ledger);
      table = new ProcessTable(ProcessTable.DEFAULT_CAPACITY, ledger);
      gaps =
          new GapDetector(
              Duration.ofSeconds(1), Duration.ofSeconds(2), timer, System::nanoTime, host);
    }

    /** Failures are events; what could not be checked is said, not hidden. */
    private void checkSelfIntegrity() {
      List<SelfIntegrity.Check> checks = self.checkAll();
      selfStatus.files(checks, clock.instant());
      for (SelfIntegrity.Check c : checks) {
        if (c.failed()) {
          reports.add(
              classifier.selfIntegrity(
                  c.component() + " " + c.path() + ": " + c.reason(),
                  Map.of("component", c.component())));
        } else if (!c.ok()) {
          reports.add(
              classifier.degraded(
                  null,
                  "self-integrity of " + c.component() + " not checked: " + c.reason(),
                  Map.of("check", "self-integrity", "component", c.component())));
        }
      }
    }

    private void openProbe(ProbeSettings probeSettings) {
      ProbeSettings loadWith = LineageStore.probeSettings(policy, probeSettings);
      if (policy.rawSyscallHooks) {
        loadWith = loadWith.withRawSyscallHooks();
      }
      probe = resources.register("probe", Probe.load(ProbeSpec.veriRuntime(), loadWith));
      quiet = new QuietProcesses(probe, new ProcScanner());
      table.adoptUnknownWith(quiet);
      followIncidents();
      for (ProgramAttachment a : probe.attachReport().failed()) {
        reports.add(
            classifier.degraded(
                null,
                "probe program "
                    + a.program()
                    + " ("
                    + a.section()
                    + ") not attached: "
                    + a.error(),
                Map.of("check", "probe-attach", "program", a.program())));
      }
      if (previousRun != null) {
        // Now, not at the marker's reading: from here on execs wait in the kernel ring.
        reports.add(restartReport(previousRun, clock.instant()));
      }
      err.println("veriruntime: " + probe.attachReport().describe().replace("\n", "\n  "));
      err.println(
          "veriruntime: references: "
              + settings.references().size()
              + ", package database: "
              + packages.get().size()
              + " files, scopes: "
              + binaryScopes
              + ", sinks: "
              + sinks.stream().map(Sink::name).toList()
              + ", JIT allowance: "
              + jitAllowance.size()
              + " digest(s)");
      err.flush();
    }

    /**
     * The probe reports every exec of a process with an open incident, and of its children down to
     * {@link Probe#INCIDENT_GENERATIONS} generations.
     */
    private void followIncidents() {
      FollowedProcesses.Follower follower =
          new FollowedProcesses.Follower() {
            @Override
            public boolean follow(int pid, Set<FollowReason> reasons, int generation) {
              return !probe.isClosed() && probe.follow(pid, reasons, generation);
            }

            @Override
            public boolean unfollow(int pid, Set<FollowReason> reasons) {
              return !probe.isClosed() && probe.unfollow(pid, reasons);
            }
          };
      FollowedProcesses followed =
          new FollowedProcesses(
              follower,
              () -> {
                Set<Integer> pids = new HashSet<>();
                incidents.openIncidents().forEach(i -> pids.add(i.pid()));
                return pids;
              },
              FollowedProcesses::procTree,
              err);
      Disposable following = followed.start(QUIET_ADOPTION, timer);
      resources.onClose("incident following", following::dispose);
    }

    /**
     * The previous run ended without a clean stop: one VERIFICATION_DEGRADED event naming the
     * window in which nothing was watched.
     */
    private SecurityEvent restartReport(RunMarker.Gap gap, Instant watchingAgain) {
      Instant from = gap.from();
      Duration length = Duration.between(from, watchingAgain);
      String previous =
          gap.previous() == null
              ? "an earlier agent (its run marker was unreadable)"
              : "agent pid " + gap.previous().pid();
      String cause =
          gap.hostRestarted()
              ? "was still running when the host restarted"
              : "did not stop cleanly (killed or crashed)";
      String scan =
          settings.scan()
              ? "processes still running are verified by the start-up scan"
              : "the start-up scan is off, so processes still running are not verified until they exec or map code";
      Map<String, Object> window = new LinkedHashMap<>();
      window.put("from", from.toString());
      window.put("to", watchingAgain.toString());
      return SecurityEvent.builder(EventType.VERIFICATION_DEGRADED, watchingAgain)
          .host(host)
          .reason(
              String.format(
                  "agent was not running from %s to %s (%.1f s): %s %s; executions in"
                      + " that window were not verified as they happened and events in flight at"
                      + " the stop may be lost; %s",
                  from, watchingAgain, length.toMillis() / 1000.0, previous, cause, scan))
          .firstSeen(from)
          .lastSeen(watchingAgain)
          .detail("check", "agent-restart")
          .detail("window", window)
          .detail("gapMillis", length.toMillis())
          .detail("previousPid", gap.previous() == null ? -1 : gap.previous().pid())
          .detail("hostRestarted", gap.hostRestarted())
          .build();
    }

    /** Right after the probe loads: writes into the agent's own files are reported at once. */
    private void watchSelf() {
      List<Path> own = new ArrayList<>(self.files());
      own.addAll(extraSelfFiles);
      selfWatch = SelfWatch.start(probe, own, err);
    }

    /** Built even without re-attestation: the control API verifies processes on request. */
    private void buildProcessVerification() {
      Set<Scope> processScopes = EnumSet.copyOf(binaryScopes);
      processScopes.add(Scope.MEMORY_MAP);
      processScopes.add(Scope.MEMORY_CODE);
      state = new RuntimeStateRegistry();
      previousVersions = new PreviousPackageVersions(policy.verification.cacheEntries);
      processes =
          new ProcessVerifier(
                  ExecutableVerifier.of(verifier),
                  new ProcessPolicy(
                      Set.copyOf(jitAllowance),
                      Set.of(),
                      processScopes,
                      policy.acceptVerifiedDlopen),
                  clock)
              .withSupersededFiles(previousVersions);
    }

    private void startReattestation() {
      if (!policy.reattestation.enabled) {
        return;
      }
      ReattestationScheduler budget =
          new ReattestationScheduler(
              processes,
              // A process passed over is not passed over again within one round interval: the
              // budget is a ceiling, not a rate to spend re-reading the same code every second.
              new ReattestationPlanner(
                  clock,
                  policy.reattestation.bytesPerSecond,
                  Duration.ofSeconds(5),
                  Duration.ofSeconds(policy.reattestation.intervalSeconds)),
              state,
              clock);
      reattestation =
          new Reattestation(
              processes,
              budget,
              state,
              table,
              classifier,
              Duration.ofSeconds(policy.reattestation.intervalSeconds),
              8,
              resources.register(
                  "re-attestation", Schedulers.newSingle("veriruntime-reattest", true)),
              resources.register(
                  "immediate re-verification",
                  Schedulers.newSingle("veriruntime-reattest-now", true)),
              ProcessHandle.current().pid(),
              new IncidentFeedback(incidents),
              Duration.ofSeconds(policy.reattestation.intervalSeconds));
    }

    private void buildPipeline() {
      // The timer ticks the incident book, whose lock the ring reader takes for every counted
      // exec: at the reader's priority, or under a storm the reader waits for a timer that waits
      // for a CPU (exec → verdict p99 90–360 ms at max rate on 2 cores; 34–50 ms with both raised).
      // Set on the timer's own thread, once the probe (and with it the native door) is open.
      Mono.fromCallable(() -> ThreadPriority.setNice(RingBufferReader.PROBE_NICE))
          .subscribeOn(timer)
          .block()
          .ifPresent(why -> err.println("veriruntime: timer keeps the default priority: " + why));
      // A collection stops every Java thread, the reader too. The parallel collector's workers (the
      // launcher's default) do its work while the VM thread waits for them (the serial collector
      // does it on the VM thread): at the default priority they wait for a CPU behind the storm.
      Optional<String> refused = Optional.empty();
      for (int tid : ThreadPriority.threadsNamed("VM Thread", "GC Thread#")) {
        Optional<String> why = ThreadPriority.setNice(tid, RingBufferReader.PROBE_NICE);
        refused = refused.or(() -> why);
      }
      refused.ifPresent(
          why -> err.println("veriruntime: collector threads keep the default priority: " + why));
      mappingFilter = ProbeMappingFilter.of(probe, selfWatch, registry, err);
      incidents.countExecsIn(mappingFilter);
      lineage =
          LineageStore.start(
              policy,
              table,
              metrics,
              probe,
              journal == null ? null : journal.journal(),
              verifier,
              timer,
              resources,
              clock,
              err);
      pipeline =
          new Pipeline(
              new Pipeline.Components(
                  verification,
                  table,
                  classifier,
                  jitAllowance,
                  ledger,
                  metrics,
                  routes,
                  Duration.ofSeconds(policy.aggregation.windowSeconds),
                  policy.aggregation.maxKeys,
                  Duration.ofSeconds(policy.aggregation.dropReportSeconds),
                  policy.verification.queue,
                  timer,
                  gaps,
                  host,
                  mappingFilter,
                  incidents,
                  lineage));
    }

    private void startSelfIntegrityMonitor() {
      Map<String, String> tags = new LinkedHashMap<>();
      // One entry per link: a program attached to several tracepoints must keep every one.
      for (ProgramAttachment a : probe.attachReport().attached()) {
        if (a.attachPoints().size() <= 1) {
          tags.put(a.program(), a.tag());
        } else {
          a.attachPoints().forEach(point -> tags.put(a.program() + " on " + point, a.tag()));
        }
      }
      monitor =
          new SelfIntegrityMonitor(
                  self,
                  tags,
                  classifier,
                  Duration.ofMinutes(5),
                  resources.register(
                      "self-integrity monitor", Schedulers.newSingle("veriruntime-self", true)))
              .reportingTo(selfStatus, clock);
    }

    /** A socket that cannot be bound is a degraded report, not a failure to start. */
    private void serveApi() {
      if (settings.apiSocket() == null && settings.uiPort() < 0) {
        return;
      }
      LocalCoreApi api =
          ControlApi.coreApi(
              processes,
              verifier,
              new LiveRuntimeState(
                  table,
                  state,
                  verification::cached,
                  ProcFs.host(),
                  new ProcScanner(),
                  ledger,
                  binaryScopes,
                  reattestation == null
                      ? Set.of()
                      : EnumSet.of(Scope.MEMORY_MAP, Scope.MEMORY_CODE)),
              journal,
              probe,
              List.copyOf(sinks),
              ledger,
              settings.references().size(),
              clock,
              incidents,
              LineageStore.counts(lineage),
              selfStatus);
      if (settings.uiPort() >= 0) {
        serveWebView(api);
      }
      if (settings.apiSocket() == null) {
        return;
      }
      if (policy.intake.enabled) {
        intake = ControlApi.intake(policy.intake, host, registry);
        alerts =
            new AlertVerification(
                intake,
                processes,
                verifier,
                state,
                classifier,
                journal == null ? null : journal.journal(),
                ledger,
                resources.register(
                    "alert verification", Schedulers.newSingle("veriruntime-alerts", true)),
                clock);
      }
      try {
        // Registered before anything else can fail: the socket file and its lock are ours now.
        ApiServer server =
            resources.register(
                "control API", ControlApi.serve(api, settings.apiSocket(), intake, registry));
        err.println("veriruntime: control API on " + server.socket());
      } catch (IOException | RuntimeException e) {
        // The API is for operators; watching goes on without it, and the gap is reported.
        String why = "control API not available: " + settings.apiSocket() + ": " + e.getMessage();
        err.println("veriruntime: " + why);
        reports.add(
            classifier.degraded(
                null,
                why,
                Map.of("check", "control-api", "socket", settings.apiSocket().toString())));
      }
      serveGrpc(api);
      err.flush();
    }

    /** The same API and the event stream over gRPC; a listener that fails is a degraded report. */
    private void serveGrpc(LocalCoreApi api) {
      Path socket = GrpcServer.socketBeside(settings.apiSocket());
      GrpcTcp tcp = settings.grpcTcp();
      try {
        GrpcServer.Builder builder =
            GrpcServer.builder(api)
                .feed(events.get())
                .alertIntake(intake)
                .socket(socket)
                .meterRegistry(registry);
        if (tcp != null) {
          builder.tcp(tcp.address(), tcp.tls());
        }
        GrpcServer server = resources.register("gRPC API", builder.bind());
        err.println(
            "veriruntime: gRPC API on "
                + socket
                + server
                    .tcpAddress()
                    .map(a -> " and " + a.getHostString() + ":" + a.getPort() + " (mutual TLS)")
                    .orElse(""));
      } catch (IOException | RuntimeException e) {
        String where = socket + (tcp == null ? "" : " / " + tcp.address());
        String why = "gRPC API not available: " + where + ": " + e.getMessage();
        err.println("veriruntime: " + why);
        reports.add(
            classifier.degraded(
                null, why, Map.of("check", "grpc-api", "socket", socket.toString())));
      }
    }

    /** The web view on 127.0.0.1; a port that cannot be bound is a degraded report. */
    private void serveWebView(LocalCoreApi api) {
      try {
        ui =
            resources.register(
                "web view", UiServer.start(api, uiEvents, settings.uiPort(), UiServer.newToken()));
        // One line: the address with the token (docs/ui.md); every request needs the token.
        err.println("veriruntime: web view on " + ui.url());
      } catch (RuntimeException e) {
        String why =
            "web view not available on 127.0.0.1:" + settings.uiPort() + ": " + e.getMessage();
        err.println("veriruntime: " + why);
        reports.add(
            classifier.degraded(
                null,
                why,
                Map.of("check", "web-view", "port", Integer.toString(settings.uiPort()))));
      }
      err.flush();
    }

    private void revalidatePackages() {
      packageReports =
          livePackages == null
              ? Flux.empty()
              : livePackages
                  .reloads()
                  .transform(
                      new PackageRevalidation(
                          verification,
                          mappingFilter,
                          table,
                          processes,
                          state,
                          previousVersions,
                          classifier,
                          metrics,
                          line -> {
                            err.println("veriruntime: " + line);
                            err.flush();
                          },
                          new OwnFileUpgrades(self, ownPackaged, selfWatch, classifier)));
    }
  }

  /**
   * One deadline for all sinks at the stop, set when the first of them closes. They deliver on
   * threads of their own, all at once, so waiting for one after the other until the same deadline
   * takes as long as the slowest of them, not the sum of their waits.
   */
  static final class SinkDeadline {
    private final Duration total;
    private long end;
    private boolean started;

    SinkDeadline(Duration total) {
      this.total = total;
    }

    /** What is left of the deadline, started by the first call. */
    synchronized Duration left() {
      long now = System.nanoTime();
      if (!started) {
        started = true;
        end = now + total.toNanos();
      }
      return Duration.ofNanos(Math.max(0, end - now));
    }
  }

  /**
   * Delivers what the sink still holds, until the stop's deadline for all sinks, then closes it;
   * says in one line how many events it could not deliver by then, and why, when the downstream is
   * away.
   */
  static void flushAndClose(Sink sink, SinkDeadline deadline, PrintStream err) {
    try {
      sink.flush().block(deadline.left());
    } catch (RuntimeException e) {
      SinkStats s = sink.stats();
      err.println(
          "veriruntime: sink "
              + sink.name()
              + " still held "
              + s.pending()
              + " event(s) "
              + deadline.total.toSeconds()
              + " s after the stop; they are not delivered to it"
              + (s.lastFailure() == null ? "" : " (last failure: " + s.lastFailure() + ")"));
    }
    sink.close(deadline.left());
  }

  /**
   * The Kafka sink's settings from the policy.
   *
   * @throws IllegalArgumentException if they are inconsistent (TLS files without TLS...)
   */
  static KafkaOptions kafkaOptions(Policy.Kafka k) {
    KafkaSecurity security =
        new KafkaSecurity(
            k.securityProtocol,
            optionalPath(k.tlsCa),
            optionalPath(k.tlsCert),
            optionalPath(k.tlsKey),
            k.saslMechanism,
            k.saslUsername,
            optionalPath(k.saslPasswordFile));
    String heartbeatTopic =
        k.heartbeatSeconds <= 0
            ? ""
            : k.heartbeatTopic.isBlank()
                ? KafkaOptions.heartbeatTopicOf(k.topic)
                : k.heartbeatTopic;
    KafkaOptions defaults = KafkaOptions.defaults(k.bootstrap, k.topic);
    return defaults
        .withSecurity(security)
        .withCapacity(k.capacity)
        .withHeartbeats(heartbeatTopic, Duration.ofSeconds(Math.max(1, k.heartbeatSeconds)))
        .withTimeouts(Duration.ofSeconds(k.deliveryTimeoutSeconds), defaults.requestTimeout());
  }

  private static Path optionalPath(String value) {
    return value == null || value.isBlank() ? null : Path.of(value);
  }

  static WebhookPayload payload(String format) {
    return switch (format == null ? "json" : format.toLowerCase()) {
      case "slack" -> WebhookPayload.SLACK;
      case "falco" -> WebhookPayload.FALCO;
      case "json", "event" -> WebhookPayload.EVENT;
      default ->
          throw new IllegalArgumentException(
              "webhook format must be json, slack or falco: " + format);
    };
  }

  /** udp://HOST:PORT, tcp://HOST:PORT, unix:///PATH (datagram) or unix-stream:///PATH. */
  static SyslogSink.Target syslogTarget(String address) {
    URI uri = URI.create(address);
    String scheme = uri.getScheme() == null ? "" : uri.getScheme();
    return switch (scheme) {
      case "udp" -> SyslogSink.Target.udp(uri.getHost(), uri.getPort() < 0 ? 514 : uri.getPort());
      case "tcp" -> SyslogSink.Target.tcp(uri.getHost(), uri.getPort() < 0 ? 514 : uri.getPort());
      case "unix" -> SyslogSink.Target.unixDatagram(Path.of(uri.getPath()));
      case "unix-stream" -> SyslogSink.Target.unixStream(Path.of(uri.getPath()));
      default ->
          throw new IllegalArgumentException(
              "syslog address must be udp://, tcp://, unix:// or unix-stream://: " + address);
    };
  }

  private static void restrict(Path dir) {
    try {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException | UnsupportedOperationException e) {
      // best effort: the journal's own files are created 0600
    }
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return Optional.ofNullable(System.getenv("HOSTNAME")).orElse("localhost");
    }
  }
}
