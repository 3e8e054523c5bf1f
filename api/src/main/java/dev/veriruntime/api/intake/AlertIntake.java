package dev.veriruntime.api.intake;

import dev.veriruntime.api.intake.AlertRejected.Reason;
import dev.veriruntime.verifier.process.ProcFs;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.util.concurrent.Queues;

/**
 * Other tools ask, we verify: the one entry point for alerts from Falco and EDRs, shared by the
 * control API's {@code POST /v1/alerts} and gRPC's {@code SubmitAlert}. An accepted alert becomes
 * an {@link AcceptedAlert} on {@link #accepted()}, which the agent verifies at once (VerifyProcess
 * of a pid that still runs, else VerifyBinary of the path).
 *
 * <pre>{@code
 * AlertIntake intake = AlertIntake.builder().meterRegistry(registry).build();
 * intake.accepted().subscribe(a -> verify(a));          // one subscriber: the agent
 * AlertReceipt r = intake.submit("falco", body, "uid 0 pid 812");  // or AlertRejected
 * }</pre>
 *
 * <h2>What is refused (every refusal counted by reason, nothing refused is queued)</h2>
 *
 * In order: a body over {@link Builder#maxBodyBytes} ({@code TOO_LARGE}); an unknown format; a body
 * that is not the format's JSON ({@code MALFORMED}); more than the source's rate ({@code
 * RATE_LIMITED}: per source, and for all sources together); a pid that does not run (or now runs
 * another program than the alert names) with no path that exists ({@code NO_SUCH_TARGET}); a
 * container's path without a running pid, or an alert about another host ({@link Builder#hostName})
 * ({@code UNRESOLVABLE_TARGET}); and, when {@link Builder#queue} accepted alerts already wait,
 * {@code BUSY}.
 *
 * <h2>Folding</h2>
 *
 * A source firing the same rule about the same target (pid and start time, or path) again within
 * {@link Builder#foldWindow} of the alert that started a verification is folded into it: counted,
 * answered with that alert's id, not verified again. Folds are kept for at most {@link
 * Builder#maxFolds} targets. What the verifications find is folded again downstream, in the
 * incident book, per process and rule.
 *
 * <p>Thread safe; {@link #submit} never blocks on verification.
 */
public final class AlertIntake {
  /** Counter of alerts by {@code outcome} (accepted, folded, rejected) and {@code reason}. */
  public static final String ALERTS = "veriruntime.intake.alerts";

  /** Timer from an alert's receipt to its verdict. */
  public static final String LATENCY = "veriruntime.intake.latency";

  private final int maxBodyBytes;
  private final Duration foldWindow;
  private final int maxFolds;
  private final ProcFs proc;
  private final String host;
  private final Clock clock;
  private final LongSupplier nanos;
  private final SourceRates rates;
  private final Map<String, Fold> folds;
  private final Sinks.Many<AcceptedAlert> queue;
  private final Counter accepted;
  private final Counter folded;
  private final Map<Reason, Counter> rejected = new EnumMap<>(Reason.class);
  private final Timer latency;

  private static final class Fold {
    final String alertId;
    final long startedNanos;
    long repeats;

    Fold(String alertId, long startedNanos) {
      this.alertId = alertId;
      this.startedNanos = startedNanos;
    }
  }

  private AlertIntake(Builder b) {
    this.maxBodyBytes = b.maxBodyBytes;
    this.foldWindow = b.foldWindow;
    this.maxFolds = b.maxFolds;
    this.proc = b.proc;
    this.host = b.host;
    this.clock = b.clock;
    this.nanos = b.nanos;
    this.rates = new SourceRates(b.ratePerSource, b.burstPerSource, b.totalRate, 256, b.nanos);
    this.folds =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Fold> eldest) {
            return size() > maxFolds;
          }
        };
    this.queue =
        Sinks.many().unicast().onBackpressureBuffer(Queues.<AcceptedAlert>get(b.queue).get());
    MeterRegistry m = b.meters == null ? new SimpleMeterRegistry() : b.meters;
    this.accepted =
        Counter.builder(ALERTS)
            .tag("outcome", "accepted")
            .tag("reason", "none")
            .description("alerts from other tools, by outcome")
            .register(m);
    this.folded =
        Counter.builder(ALERTS).tag("outcome", "folded").tag("reason", "none").register(m);
    for (Reason r : Reason.values()) {
      rejected.put(
          r, Counter.builder(ALERTS).tag("outcome", "rejected").tag("reason", r.tag()).register(m));
    }
    this.latency =
        Timer.builder(LATENCY)
            .description("from an alert's receipt to the verdict of the verification it asked for")
            .publishPercentiles(0.5, 0.99)
            .register(m);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The largest body accepted, in bytes; a transport may refuse a larger one before reading it. */
  public int maxBodyBytes() {
    return maxBodyBytes;
  }

  /**
   * Reads, checks and queues one alert.
   *
   * @param format a format name ({@link AlertFormat}); null means {@code falco}
   * @param body the alert, at most {@link #maxBodyBytes()} bytes
   * @param peer who sent it, for the journal ("uid 0 pid 812")
   * @throws AlertRejected with the reason; counted
   */
  public AlertReceipt submit(String format, byte[] body, String peer) throws AlertRejected {
    try {
      return admit(format, body, peer);
    } catch (AlertRejected e) {
      rejected.get(e.reason()).increment();
      throw e;
    }
  }

  /**
   * The refusal of a body of {@code bytes} (announced by the transport, e.g. Content-Length) over
   * the limit, counted; for transports that refuse before reading.
   */
  public AlertRejected tooLarge(long bytes) {
    rejected.get(Reason.TOO_LARGE).increment();
    return tooLargeRejection(bytes);
  }

  /**
   * The accepted alerts, in order, for one subscriber (the agent's verification). At most {@link
   * Builder#queue} wait; beyond that {@link #submit} refuses with {@code BUSY}.
   */
  public Flux<AcceptedAlert> accepted() {
    return queue.asFlux();
  }

  /**
   * Records that {@code a}'s verification reached its verdict now; returns the time since it was
   * received (also in the {@value #LATENCY} timer).
   */
  public Duration verdictReached(AcceptedAlert a) {
    Duration d = Duration.ofNanos(Math.max(0, nanos.getAsLong() - a.receivedNanos()));
    latency.record(d);
    return d;
  }

  /** Alerts accepted for verification since start. */
  public long acceptedCount() {
    return (long) accepted.count();
  }

  /** Alerts folded into an earlier one since start. */
  public long foldedCount() {
    return (long) folded.count();
  }

  /** Alerts refused for {@code reason} since start. */
  public long rejectedCount(Reason reason) {
    return (long) rejected.get(reason).count();
  }

  /** The latency timer (count, percentiles). */
  public Timer latency() {
    return latency;
  }

  private AlertReceipt admit(String formatName, byte[] body, String peer) throws AlertRejected {
    long received = nanos.getAsLong();
    Instant receivedAt = clock.instant();
    if (body.length > maxBodyBytes) {
      throw tooLargeRejection(body.length);
    }
    String name = formatName == null || formatName.isBlank() ? "falco" : formatName;
    AlertFormat format =
        AlertFormat.named(name)
            .orElseThrow(
                () ->
                    new AlertRejected(
                        Reason.UNKNOWN_FORMAT,
                        "unknown alert format \""
                            + name.replaceAll("\\p{Cntrl}", "?")
                            + "\" (formats: "
                            + AlertFormat.names()
                            + ")"));
    Alert alert = AlertParsers.parse(format, body);
    if (!rates.tryAcquire(alert.source())) {
      throw new AlertRejected(
          Reason.RATE_LIMITED,
          "too many alerts from " + alert.source() + ": over its rate, refused and counted");
    }
    AlertTarget target = resolve(alert);
    String foldKey = alert.foldName() + "|" + key(target);
    synchronized (folds) {
      Fold f = folds.get(foldKey);
      if (f != null && received - f.startedNanos < foldWindow.toNanos()) {
        f.repeats++;
        folded.increment();
        return new AlertReceipt(
            alert.id(),
            alert.source(),
            alert.rule(),
            target.describe(),
            AlertReceipt.Action.FOLDED,
            f.alertId,
            f.repeats,
            receivedAt);
      }
      Sinks.EmitResult r =
          queue.tryEmitNext(new AcceptedAlert(alert, target, receivedAt, received, peer));
      if (r.isFailure()) {
        throw new AlertRejected(
            Reason.BUSY,
            "too many alerts wait for verification ("
                + r
                + "); try again, or lower the sender's rate");
      }
      folds.put(foldKey, new Fold(alert.id(), received));
    }
    accepted.increment();
    return new AlertReceipt(
        alert.id(),
        alert.source(),
        alert.rule(),
        target.describe(),
        AlertReceipt.Action.VERIFYING,
        null,
        0,
        receivedAt);
  }

  private AlertRejected tooLargeRejection(long bytes) {
    return new AlertRejected(
        Reason.TOO_LARGE,
        "alert body of " + bytes + " bytes is over the limit of " + maxBodyBytes + " bytes");
  }

  private static String key(AlertTarget t) {
    return t instanceof AlertTarget.Process p
        ? "pid:" + p.pid() + ":" + p.startTicks()
        : "path:" + ((AlertTarget.Binary) t).path();
  }

  /**
   * The running process the alert names, else its file on the host. A pid that now runs a program
   * of another name than the alert's {@code proc.name} was reused: it is not the alert's process.
   */
  private AlertTarget resolve(Alert a) throws AlertRejected {
    if (host != null && a.hostname() != null && !sameHost(host, a.hostname())) {
      // Its pid and path are another machine's: verifying ours would answer nobody's question.
      throw new AlertRejected(
          Reason.UNRESOLVABLE_TARGET,
          "the alert is about host " + a.hostname() + "; this agent runs on " + host);
    }
    String whyNotPid = null;
    if (a.pid() != null) {
      try {
        long start = proc.startTicks(a.pid());
        String comm = proc.readString(a.pid(), "comm").strip();
        if (a.processName() == null || sameName(comm, a.processName())) {
          return new AlertTarget.Process(a.pid(), start);
        }
        whyNotPid =
            "pid " + a.pid() + " now runs \"" + comm + "\", not \"" + a.processName() + "\"";
      } catch (IOException | RuntimeException e) {
        whyNotPid = "pid " + a.pid() + " is not running";
      }
    }
    if (a.path() != null) {
      if (a.inContainer()) {
        throw new AlertRejected(
            Reason.UNRESOLVABLE_TARGET,
            (whyNotPid == null ? "no pid given" : whyNotPid)
                + ", and "
                + a.path()
                + " is a path inside container "
                + a.containerId()
                + ", which the host cannot reach without a running process of it");
      }
      if (Files.isRegularFile(Path.of(a.path()), LinkOption.NOFOLLOW_LINKS)
          || Files.isRegularFile(Path.of(a.path()))) {
        return new AlertTarget.Binary(a.path());
      }
      throw new AlertRejected(
          Reason.NO_SUCH_TARGET,
          (whyNotPid == null ? "" : whyNotPid + ", and ") + a.path() + " does not exist");
    }
    throw new AlertRejected(Reason.NO_SUCH_TARGET, whyNotPid + " and the alert names no path");
  }

  /** The same host, by full or short name (before the first dot), case-insensitive. */
  static boolean sameHost(String ours, String theirs) {
    return ours.equalsIgnoreCase(theirs) || shortName(ours).equalsIgnoreCase(shortName(theirs));
  }

  private static String shortName(String host) {
    int dot = host.indexOf('.');
    return dot > 0 ? host.substring(0, dot) : host;
  }

  /** comm is the name cut to 15 bytes. */
  private static boolean sameName(String comm, String name) {
    return comm.equals(name) || (comm.length() == 15 && name.startsWith(comm));
  }

  /** Settings of an {@link AlertIntake}. Not thread safe. */
  public static final class Builder {
    private int maxBodyBytes = 64 * 1024;
    private double ratePerSource = 20;
    private int burstPerSource = 50;
    private double totalRate = 100;
    private Duration foldWindow = Duration.ofMinutes(1);
    private int maxFolds = 4096;
    private int queue = 64;
    private ProcFs proc = ProcFs.host();
    private String host;
    private Clock clock = Clock.systemUTC();
    private LongSupplier nanos = System::nanoTime;
    private MeterRegistry meters;

    private Builder() {}

    /** Largest body, in bytes; default 64 KiB (a Falco alert is 1 to 3 KiB). */
    public Builder maxBodyBytes(int bytes) {
      if (bytes < 256) {
        throw new IllegalArgumentException("maxBodyBytes must be at least 256");
      }
      this.maxBodyBytes = bytes;
      return this;
    }

    /**
     * Alerts per second per source, with a burst; and per second for all sources together. Defaults
     * 20/s, burst 50, 100/s in all.
     */
    public Builder rate(double perSource, int burst, double total) {
      if (perSource <= 0 || burst < 1 || total <= 0) {
        throw new IllegalArgumentException("rates must be positive and the burst at least 1");
      }
      this.ratePerSource = perSource;
      this.burstPerSource = burst;
      this.totalRate = total;
      return this;
    }

    /** How long repeats of one source, rule and target are folded; default 1 min. */
    public Builder foldWindow(Duration window) {
      this.foldWindow = Objects.requireNonNull(window);
      return this;
    }

    /** Targets whose folds are remembered at most; default 4096. */
    public Builder maxFolds(int maxFolds) {
      if (maxFolds < 1) {
        throw new IllegalArgumentException("maxFolds must be at least 1");
      }
      this.maxFolds = maxFolds;
      return this;
    }

    /** Accepted alerts that may wait for verification; default 64. */
    public Builder queue(int queue) {
      if (queue < 1) {
        throw new IllegalArgumentException("queue must be at least 1");
      }
      this.queue = queue;
      return this;
    }

    /** Where pids are looked up; default the host's /proc. */
    public Builder procFs(ProcFs proc) {
      this.proc = Objects.requireNonNull(proc);
      return this;
    }

    /**
     * This host's name: an alert whose {@code hostname} names another host is refused ({@code
     * UNRESOLVABLE_TARGET}), since its pid and path are that host's. Default none (not checked).
     */
    public Builder hostName(String host) {
      this.host = host == null || host.isBlank() ? null : host;
      return this;
    }

    /** Wall clock for receipts, and a nano clock for rates, folds and latency. */
    public Builder clocks(Clock clock, LongSupplier nanos) {
      this.clock = Objects.requireNonNull(clock);
      this.nanos = Objects.requireNonNull(nanos);
      return this;
    }

    /** Where the counters and the latency timer go; default a private registry. */
    public Builder meterRegistry(MeterRegistry meters) {
      this.meters = meters;
      return this;
    }

    public AlertIntake build() {
      return new AlertIntake(this);
    }
  }
}
