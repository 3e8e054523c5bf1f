package dev.veriruntime.agent;

import dev.veriruntime.api.ApiServer;
import dev.veriruntime.api.LocalCoreApi;
import dev.veriruntime.ingest.EventSource;
import dev.veriruntime.ingest.Probe;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.ProbeSpec;
import dev.veriruntime.ingest.ProcScanner;
import dev.veriruntime.ingest.ProgramAttachment;
import dev.veriruntime.ingest.event.RuntimeEvent;
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
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.console.ConsoleSink;
import dev.veriruntime.sinks.journal.JournalSink;
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
import dev.veriruntime.verifier.process.ProcessPolicy;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.ReattestationPlanner;
import dev.veriruntime.verifier.process.ReattestationScheduler;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import dev.veriruntime.verifier.reference.ReferenceStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The running agent behind {@code veriruntime watch}: loads the probe, builds the sinks and the
 * {@link Pipeline} from the {@link Policy}, checks its own integrity, and runs until {@link #stop}
 * (Ctrl-C, SIGTERM) or the optional duration. Stopping detaches the probe, which completes the
 * event stream, so pending aggregates and drop counts are flushed before the sinks close.
 *
 * <p>With the package database trusted, it is a {@link LivePackageDatabase}: reloaded after the
 * package manager changes it, each reload re-validated by {@link PackageRevalidation}.
 *
 * <p>With {@link Settings#apiSocket} set it also serves the Core API ({@code dev.veriruntime.api})
 * on that Unix socket over its own verifiers, runtime state, journal and counters; a socket that
 * cannot be bound is a {@code VERIFICATION_DEGRADED} startup report, not a failure to start.
 */
public final class Daemon implements AutoCloseable {
  /** How often the package database's signature is read: two stat calls. */
  private static final Duration PACKAGE_POLL = Duration.ofSeconds(1);

  /** dpkg writes one package after another; reload once it has been quiet this long. */
  private static final Duration PACKAGE_QUIET = Duration.ofSeconds(2);

  private final Settings settings;
  private final Probe probe;
  private final List<Sink> sinks;
  private final Pipeline pipeline;
  private final PipelineMetrics metrics;
  private final Scheduler smallLane;
  private final Scheduler largeLane;
  private final Sinks.Empty<Void> stopSignal = Sinks.empty();
  private final List<SecurityEvent> startupReports;
  private final Reattestation reattestation;
  private final SelfIntegrityMonitor selfIntegrity;
  private final Flux<SecurityEvent> packageReports;
  private final PrintStream err;
  private final ApiServer apiServer;
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * What the command line decided.
   *
   * @param apiSocket where to serve the control API ({@code ApiServer.DEFAULT_SOCKET} for {@code
   *     watch}); null: no control API
   */
  public record Settings(
      Policy policy,
      ReferenceStore references,
      boolean json,
      Path stateDir,
      Path journalDir,
      boolean journal,
      boolean scan,
      Path apiSocket) {

    /** Settings without a control API. */
    public Settings(
        Policy policy,
        ReferenceStore references,
        boolean json,
        Path stateDir,
        Path journalDir,
        boolean journal,
        boolean scan) {
      this(policy, references, json, stateDir, journalDir, journal, scan, null);
    }
  }

  private Daemon(
      Settings settings,
      Probe probe,
      List<Sink> sinks,
      Pipeline pipeline,
      PipelineMetrics metrics,
      Scheduler smallLane,
      Scheduler largeLane,
      List<SecurityEvent> startupReports,
      Reattestation reattestation,
      SelfIntegrityMonitor selfIntegrity,
      Flux<SecurityEvent> packageReports,
      PrintStream err,
      ApiServer apiServer) {
    this.apiServer = apiServer;
    this.packageReports = packageReports;
    this.reattestation = reattestation;
    this.selfIntegrity = selfIntegrity;
    this.settings = settings;
    this.probe = probe;
    this.sinks = sinks;
    this.pipeline = pipeline;
    this.metrics = metrics;
    this.smallLane = smallLane;
    this.largeLane = largeLane;
    this.startupReports = startupReports;
    this.err = err;
  }

  /**
   * Builds everything and loads the probe (attached from here on: execs wait in the kernel ring).
   *
   * @throws IOException if the state directory or the journal cannot be opened
   * @throws dev.veriruntime.ingest.ProbeException if the probe cannot be loaded or attached
   */
  public static Daemon start(
      Settings s, ProbeSettings probeSettings, PrintStream out, PrintStream err)
      throws IOException {
    Policy policy = s.policy();
    String host = hostName();
    Clock clock = Clock.systemUTC();
    List<SecurityEvent> reports = new ArrayList<>();
    Classifier classifier = new Classifier(clock, host);
    DropLedger ledger = new DropLedger();
    Scheduler timer = Schedulers.newSingle("veriruntime-timer", true);

    Outputs outputs = Outputs.open(policy, s, out, timer, classifier, reports);
    List<Sink> sinks = outputs.sinks();
    List<SinkStage.Route> routes = outputs.routes();
    JournalSink journal = outputs.journal();
    MeterRegistry registry = outputs.registry();

    PipelineMetrics metrics = new PipelineMetrics(registry);
    PackageDatabase none = PackageDatabase.empty();
    LivePackageDatabase livePackages =
        policy.packageDatabase
            ? LivePackageDatabase.open(
                Path.of(policy.packageDatabaseDir),
                PACKAGE_POLL,
                PACKAGE_QUIET,
                Schedulers.newSingle("veriruntime-packages", true))
            : null;
    Supplier<PackageDatabase> packages = livePackages != null ? livePackages : () -> none;
    Set<String> jitAllowance = new HashSet<>(policy.jitAllowance);
    if (livePackages != null) {
      jitAllowance.addAll(JitRuntimes.vouchedFor(packages.get(), policy.jitRuntimePackages));
    }
    IncidentBook incidents =
        new IncidentBook(
            policy.incidents.settings(policy.aggregation.maxKeys, ProcessHandle.current().pid()),
            ProcessLiveness.proc());
    Set<Scope> binaryScopes = EnumSet.copyOf(policy.execScopes);
    binaryScopes.retainAll(BinaryVerifier.BINARY_SCOPES);
    BinaryVerifier verifier =
        new BinaryVerifier(
            s.references(),
            packages,
            clock,
            new BinaryVerifier.Options(binaryScopes, ElfHeader.hostMachine()));
    Scheduler small =
        Schedulers.newBoundedElastic(
            Math.max(1, policy.verification.concurrency),
            policy.verification.queue,
            "veriruntime-verify");
    Scheduler large =
        Schedulers.newBoundedElastic(1, policy.verification.queue, "veriruntime-verify-large");
    ExecutableVerification verification =
        new ExecutableVerification(
            verifier,
            policy.verification.cacheEntries,
            small,
            large,
            policy.verification.largeFileBytes,
            1024,
            metrics,
            ledger);
    ProcessTable table = new ProcessTable(1 << 20, ledger);
    GapDetector gaps =
        new GapDetector(
            Duration.ofSeconds(1), Duration.ofSeconds(2), timer, System::nanoTime, host);

    // Self-integrity at start: failures are events; what could not be checked is said, not hidden.
    for (SelfIntegrity.Check c : SelfIntegrity.forThisProcess(packages).checkAll()) {
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

    Probe probe;
    try {
      probe = Probe.load(ProbeSpec.veriRuntime(), probeSettings);
    } catch (RuntimeException e) {
      sinks.forEach(Sink::close);
      throw e;
    }
    for (ProgramAttachment a : probe.attachReport().failed()) {
      reports.add(
          classifier.degraded(
              null,
              "probe program " + a.program() + " (" + a.section() + ") not attached: " + a.error(),
              Map.of("check", "probe-attach", "program", a.program())));
    }
    err.println("veriruntime: " + probe.attachReport().describe().replace("\n", "\n  "));
    err.println(
        "veriruntime: references: "
            + s.references().size()
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

    // Built even without re-attestation: the control API verifies processes on request.
    Set<Scope> processScopes = EnumSet.copyOf(binaryScopes);
    processScopes.add(Scope.MEMORY_MAP);
    processScopes.add(Scope.MEMORY_CODE);
    RuntimeStateRegistry state = new RuntimeStateRegistry();
    PreviousPackageVersions previousVersions =
        new PreviousPackageVersions(policy.verification.cacheEntries);
    ProcessVerifier processes =
        new ProcessVerifier(
                ExecutableVerifier.of(verifier),
                new ProcessPolicy(
                    Set.copyOf(jitAllowance), Set.of(), processScopes, policy.acceptVerifiedDlopen),
                clock)
            .withSupersededFiles(previousVersions);
    Reattestation reattestation = null;
    if (policy.reattestation.enabled) {
      ReattestationScheduler budget =
          new ReattestationScheduler(
              processes,
              new ReattestationPlanner(
                  clock, policy.reattestation.bytesPerSecond, Duration.ofSeconds(5)),
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
              Schedulers.newSingle("veriruntime-reattest", true),
              ProcessHandle.current().pid(),
              new IncidentFeedback(incidents));
    }

    MappingFilter mappingFilter = ProbeMappingFilter.of(probe, registry, err);
    Pipeline pipeline =
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
                incidents));
    Map<String, String> tags = new LinkedHashMap<>();
    probe.attachReport().attached().forEach(a -> tags.put(a.program(), a.tag()));
    SelfIntegrityMonitor monitor =
        new SelfIntegrityMonitor(
            SelfIntegrity.forThisProcess(packages),
            tags,
            classifier,
            Duration.ofMinutes(5),
            Schedulers.newSingle("veriruntime-self", true));
    ApiServer apiServer = null;
    if (s.apiSocket() != null) {
      LocalCoreApi api =
          ControlApi.coreApi(
              processes,
              verifier,
              state,
              journal,
              probe,
              List.copyOf(sinks),
              ledger,
              s.references().size(),
              clock,
              incidents);
      try {
        apiServer = ControlApi.serve(api, s.apiSocket());
        err.println("veriruntime: control API on " + apiServer.socket());
      } catch (IOException | RuntimeException e) {
        // The API is for operators; watching goes on without it, and the gap is reported.
        String why = "control API not available: " + s.apiSocket() + ": " + e.getMessage();
        err.println("veriruntime: " + why);
        reports.add(
            classifier.degraded(
                null, why, Map.of("check", "control-api", "socket", s.apiSocket().toString())));
      }
      err.flush();
    }
    Flux<SecurityEvent> packageReports =
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
                        }));
    return new Daemon(
        s,
        probe,
        sinks,
        pipeline,
        metrics,
        small,
        large,
        reports,
        reattestation,
        monitor,
        packageReports,
        err,
        apiServer);
  }

  /** Runs until {@link #stop} or {@code duration} (null: no limit). */
  public void run(Duration duration) {
    Flux<RuntimeEvent> live = EventSource.live(probe).takeUntilOther(stopSignal.asMono());
    if (duration != null) {
      live = live.take(duration);
    }
    Flux<RuntimeEvent> events =
        settings.scan() ? Flux.concat(EventSource.startupScan(new ProcScanner()), live) : live;
    Flux<SecurityEvent> reports =
        Flux.merge(Flux.fromIterable(startupReports), selfIntegrity.events(), packageReports);
    if (reattestation != null) {
      reports = Flux.merge(reports, reattestation.events());
    }
    pipeline
        .run(events, reports)
        .doOnSubscribe(
            s -> {
              err.println("veriruntime: watching (pid " + ProcessHandle.current().pid() + ")");
              err.flush();
            })
        .blockLast();
  }

  /** Asks {@link #run} to finish: the stream completes, aggregates and drop counts are flushed. */
  public void stop() {
    stopSignal.tryEmitEmpty();
  }

  public PipelineMetrics metrics() {
    return metrics;
  }

  /** Stops the control API, detaches the probe, flushes and closes every sink. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (apiServer != null) {
      // First, so that no caller is answered from a daemon that is half torn down.
      apiServer.close();
    }
    probe.close();
    for (Sink sink : sinks) {
      try {
        sink.flush().block(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        err.println("veriruntime: sink " + sink.name() + " did not flush: " + e.getMessage());
      }
      sink.close();
    }
    smallLane.dispose();
    largeLane.dispose();
  }

  /**
   * The sinks the policy asks for, each behind its rate; the meter registry they expose, if any.
   */
  private record Outputs(
      List<Sink> sinks, List<SinkStage.Route> routes, JournalSink journal, MeterRegistry registry) {
    static Outputs open(
        Policy policy,
        Settings s,
        PrintStream out,
        Scheduler timer,
        Classifier classifier,
        List<SecurityEvent> reports)
        throws IOException {
      List<Sink> sinks = new ArrayList<>();
      List<SinkStage.Route> routes = new ArrayList<>();
      MeterRegistry registry = new SimpleMeterRegistry();
      JournalSink journal = null;
      try {
        if (policy.sinks.metricsPort > 0) {
          PrometheusSink prometheus =
              PrometheusSink.start(
                  "127.0.0.1", policy.sinks.metricsPort, 1024, Schedulers.boundedElastic());
          registry = prometheus.registry();
          sinks.add(prometheus);
          routes.add(SinkStage.route(prometheus, 10_000, 10_000, timer));
        }
        if (policy.sinks.console.enabled) {
          ConsoleSink console = s.json() ? ConsoleSink.jsonLines(out) : ConsoleSink.human(out);
          sinks.add(console);
          routes.add(
              SinkStage.route(
                  console, policy.sinks.console.rate, policy.sinks.console.burst, timer));
        }
        if (s.journal() && policy.sinks.journal.enabled) {
          Files.createDirectories(s.journalDir());
          restrict(s.journalDir());
          journal = JournalSink.open(s.journalDir());
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
          sinks.add(journal);
          routes.add(
              SinkStage.route(
                  journal, policy.sinks.journal.rate, policy.sinks.journal.burst, timer));
        }
        if (!policy.sinks.webhook.isBlank()) {
          WebhookSink webhook =
              new WebhookSink(
                  WebhookOptions.defaults(
                      URI.create(policy.sinks.webhook), payload(policy.sinks.webhookFormat)));
          sinks.add(webhook);
          routes.add(SinkStage.route(webhook, policy.sinks.webhookRate, 20, timer));
        }
        if (!policy.sinks.slack.isBlank()) {
          WebhookSink slack =
              new WebhookSink(
                  WebhookOptions.defaults(URI.create(policy.sinks.slack), WebhookPayload.SLACK));
          sinks.add(slack);
          routes.add(SinkStage.route(slack, Math.min(1, policy.sinks.webhookRate), 10, timer));
        }
        if (!policy.sinks.syslog.isBlank()) {
          SyslogSink syslog =
              SyslogSink.open(
                  syslogTarget(policy.sinks.syslog),
                  SyslogSink.AUTHPRIV,
                  Schedulers.boundedElastic());
          sinks.add(syslog);
          routes.add(SinkStage.route(syslog, policy.sinks.syslogRate, 200, timer));
        }
      } catch (IOException | RuntimeException e) {
        sinks.forEach(Sink::close);
        throw e;
      }
      return new Outputs(sinks, routes, journal, registry);
    }
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
