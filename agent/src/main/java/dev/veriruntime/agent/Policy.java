package dev.veriruntime.agent;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonMerge;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.veriruntime.pipeline.IncidentBook;
import dev.veriruntime.verifier.Scope;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The policy file (YAML or JSON; JSON is valid YAML): where trust comes from, what to check, what
 * may be tolerated, and where events go. Every key is optional: anything not given keeps the
 * embedded default ({@code default-policy.yaml}, documented in docs/operations.md). Unknown keys
 * are an error, so a typo never silently disables a check.
 *
 * <p>Mutable plain fields for the YAML binding; treat a loaded policy as read-only.
 */
public final class Policy {
  /** Signed (DSSE) or unsigned in-toto statements whose subjects are trusted references. */
  public List<String> references = new ArrayList<>();

  /** Public keys (PEM, SPKI) that may sign references. */
  public List<String> trustedKeys = new ArrayList<>();

  /**
   * Accept a file owned by a Debian package when its content matches the package database's
   * checksum ({@code /var/lib/dpkg/info/*.md5sums}): the embedded default's source of trust.
   */
  public boolean packageDatabase = true;

  /**
   * Where the package database lives (dpkg's info directory). Watched while the agent runs: after
   * the package manager changes it, a new snapshot is loaded and what changed is verified again.
   */
  public String packageDatabaseDir = "/var/lib/dpkg/info";

  /** Scopes intended for every executed binary. */
  public Set<Scope> execScopes = EnumSet.of(Scope.DISK_HASH, Scope.ELF_HEADER);

  /**
   * Executables (by SHA-256, never by name) allowed to create anonymous executable memory (JITs).
   */
  public List<String> jitAllowance = new ArrayList<>();

  /**
   * Packages (names or shell-style globs) whose runtime executables may JIT: each file under a
   * {@code bin/} directory of such a package whose bytes match the package database's checksum is
   * added to the JIT allowance by its SHA-256 at start. Only with {@link #packageDatabase}; an
   * empty list turns the default off.
   */
  public List<String> jitRuntimePackages = new ArrayList<>();

  /**
   * Accept a library loaded at run time (dlopen, outside the executable's dependency closure) when
   * the library itself is verified: plug-ins of JVMs, NSS, PAM, iconv. An unknown or failed library
   * is reported either way; false reports every library outside the closure.
   */
  public boolean acceptVerifiedDlopen = true;

  /**
   * Put the probe's syscall programs on the raw syscall tracepoints, which run at every syscall on
   * the host, even where the syscalls' own tracepoints can be used (the default: through a tracefs
   * mount the agent makes in a mount namespace of its own when the host has none).
   */
  public boolean rawSyscallHooks = false;

  // @JsonMerge: a file that names one key of a section keeps the section's other defaults.
  @JsonMerge public Verification verification = new Verification();
  @JsonMerge public Reattestation reattestation = new Reattestation();
  @JsonMerge public Aggregation aggregation = new Aggregation();
  @JsonMerge public Incidents incidents = new Incidents();
  @JsonMerge public Sinks sinks = new Sinks();
  @JsonMerge public Lineage lineage = new Lineage();
  @JsonMerge public Intake intake = new Intake();

  /**
   * Alerts from other tools ({@code POST /v1/alerts} on the control API): each accepted alert makes
   * the agent verify the process or file it names (docs/api.md).
   */
  public static final class Intake {
    public boolean enabled = true;

    /** Largest alert body, in bytes. */
    public int maxBodyBytes = 64 * 1024;

    /** Alerts per second per source, its burst, and per second for all sources together. */
    public double rate = 20;

    public int burst = 50;
    public double totalRate = 100;

    /** Repeats of one source, rule and target within this many seconds are folded. */
    public long foldSeconds = 60;

    /** Accepted alerts waiting for verification before new ones are refused (503). */
    public int queue = 64;
  }

  /** The file this policy was loaded from; null for the embedded default. */
  @JsonIgnore private Path source;

  /**
   * The files the agent runs on besides its code: the policy file it was loaded from (if any), the
   * reference files and the trusted keys it names, as absolute paths. The agent watches them for
   * writes while it runs, as its own files.
   */
  public List<Path> files() {
    List<Path> out = new ArrayList<>();
    if (source != null) {
      out.add(source.toAbsolutePath());
    }
    references.forEach(r -> out.add(Path.of(r).toAbsolutePath()));
    trustedKeys.forEach(k -> out.add(Path.of(k).toAbsolutePath()));
    return List.copyOf(out);
  }

  /**
   * Build lineage: files written by verified toolchain processes inside these roots, and by nothing
   * else since, are trusted by their lineage (scope LINEAGE). Off when no root is given.
   */
  public static final class Lineage {
    /** Absolute directories (build trees); {@code watch --lineage-root DIR} adds to them. */
    public List<String> roots = new ArrayList<>();

    /**
     * Toolchain executables in addition to the defaults (GCC, binutils, LLVM, Go, Rust): a file
     * name ({@code my-cc}, matched like the defaults, and only for a verified executable) or {@code
     * sha256:HEX} (an executable with that digest is a toolchain even without a reference).
     */
    public List<String> toolchain = new ArrayList<>();
  }

  /** Bounded parallel verification. */
  public static final class Verification {
    /** Files verified at once (small lane). */
    public int concurrency = 2;

    /**
     * Files at or above this size go to their own lane of one, so they cannot starve small ones.
     */
    public long largeFileBytes = 64L << 20;

    /**
     * An exec of a file up to this size on a local filesystem is verified at once on the ring
     * reader's thread instead of a lane (see {@code ExecutableVerification#checkNow}); 0: never.
     */
    public long inlineMaxBytes = 2L << 20;

    /**
     * The most of each second the ring reader spends verifying execs itself; beyond it they wait
     * for a lane.
     */
    public long inlineMillisPerSecond = 100;

    /** Verdicts kept by kernel identity (dev, inode, ctime, size). */
    public int cacheEntries = 65_536;

    /** Events waiting for verification before new ones are dropped (and counted). */
    public int queue = 16_384;

    /**
     * Verifications of the JVM's launcher at start, so that new binaries meet compiled code (see
     * {@code VerifierWarmUp}); 0: none.
     */
    public int warmUpRuns = 10_000;

    /**
     * Made-up execs of the executables the start-up scan found through a pipeline of the agent's
     * own, so that a calm host's execs meet compiled code (see {@code PipelineWarmUp}); 0: none.
     */
    public int warmUpExecs = 10_000;
  }

  /** Periodic re-verification of long-running processes. */
  public static final class Reattestation {
    public boolean enabled = true;

    /** Memory compared per second across all processes. */
    public long bytesPerSecond = 32L << 20;

    /**
     * Pause between rounds, in seconds; also the least time between two passes over one process.
     */
    public long intervalSeconds = 60;

    /**
     * Re-checks of the agent's own process at start, so that rounds meet compiled code (see {@code
     * ProcessWarmUp}); 0 for none.
     */
    public int warmUpRuns = 300;
  }

  /** Folding of repeats. */
  public static final class Aggregation {
    public long windowSeconds = 10;
    public int maxKeys = 65_536;

    /** How often losses are reported as VERIFICATION_DEGRADED. */
    public long dropReportSeconds = 5;
  }

  /** How a condition about a running process is reported over time (docs/operations.md). */
  public static final class Incidents {
    /** Findings about one process within this many milliseconds of the first are one event. */
    public long groupMillis = 1_000;

    /**
     * The same for findings that are an act seen as it happens (a write into another process's
     * memory, a mapped file opened for writing): their first report goes out this soon.
     */
    public long actGroupMillis = IncidentBook.DEFAULT_ACT_WINDOW.toMillis();

    /**
     * Delays, in seconds, from an incident's opening to its first reminder and then between
     * reminders; the last repeats.
     */
    public List<Long> reminderSeconds = new ArrayList<>(List.of(60L, 600L, 3_600L, 86_400L));

    /** The incident book's settings; liveness is checked every second. */
    public IncidentBook.Settings settings(int maxIncidents, long selfPid) {
      return new IncidentBook.Settings(
          Duration.ofMillis(groupMillis),
          Duration.ofMillis(Math.min(actGroupMillis, groupMillis)),
          reminderSeconds.stream().map(Duration::ofSeconds).toList(),
          Duration.ofSeconds(1),
          maxIncidents,
          selfPid);
    }
  }

  /** Outputs and their rates (events per second, burst). */
  public static final class Sinks {
    @JsonMerge public Output console = new Output(true, 50, 200);
    @JsonMerge public Output journal = new Output(true, 1_000, 5_000);

    /** Webhook URL (JSON, Slack or Falco format); off when empty. */
    public String webhook = "";

    public String webhookFormat = "json";
    public String slack = "";

    /** Syslog address: udp://host:port, tcp://host:port or unix:///dev/log; off when empty. */
    public String syslog = "";

    /** Prometheus scrape port on 127.0.0.1; 0 = off. */
    public int metricsPort = 0;

    public double webhookRate = 5;
    public double syslogRate = 100;

    /** Fleet export to Kafka (docs/operations.md, "Fleet"); off while bootstrap is empty. */
    @JsonMerge public Kafka kafka = new Kafka();
  }

  /**
   * The Kafka sink: every event (key: host, value: the event JSON) to {@code topic}, and a
   * heartbeat per host to {@code heartbeatTopic}, through an idempotent producer with {@code
   * acks=all}.
   */
  public static final class Kafka {
    /** Bootstrap servers, {@code host:port[,host:port...]}; empty: off. */
    public String bootstrap = "";

    public String topic = "veriruntime-events";

    /** Heartbeat topic; empty: {@code TOPIC-heartbeat}. */
    public String heartbeatTopic = "";

    /** Seconds between heartbeats; 0: none (a fleet consumer then cannot tell silence apart). */
    public long heartbeatSeconds = 30;

    /** Events held while the brokers are away before new ones are dropped (and counted). */
    public int capacity = 10_000;

    /** How long one event is retried before it counts as failed. */
    public long deliveryTimeoutSeconds = 120;

    public double rate = 1_000;
    public int burst = 5_000;

    /** PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL. */
    public String securityProtocol = "PLAINTEXT";

    /** PEM file of the CA certificates that sign the brokers' certificates; empty: JVM default. */
    public String tlsCa = "";

    /** PEM certificate chain and PKCS#8 key for mutual TLS; both or neither. */
    public String tlsCert = "";

    public String tlsKey = "";

    /** PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (with a SASL protocol). */
    public String saslMechanism = "";

    public String saslUsername = "";

    /** A file (mode 0600) holding the SASL password, so the policy itself holds no secret. */
    public String saslPasswordFile = "";
  }

  /** One output's switch and rate. */
  public static final class Output {
    public boolean enabled;
    public double rate;
    public int burst;

    public Output() {}

    Output(boolean enabled, double rate, int burst) {
      this.enabled = enabled;
      this.rate = rate;
      this.burst = burst;
    }
  }

  private static ObjectMapper mapper() {
    ObjectMapper m =
        new ObjectMapper(new YAMLFactory())
            .setPropertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            // "sinks:" with nothing after it, or "- ~" in a list, is a null the daemon would trip
            // over later (found by PolicyFuzzTest): refused here, naming the key.
            .setDefaultSetterInfo(JsonSetter.Value.forValueNulls(Nulls.FAIL, Nulls.FAIL));
    // An empty scalar ('' or a bare tag such as "!600") is not a number: Jackson would make it a
    // null Long in a list of numbers, past the null check above (found by PolicyFuzzTest).
    m.coercionConfigDefaults().setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    return m;
  }

  /**
   * Jackson names the key last, on a line of its own that a one-line error drops: put it first, as
   * the policy's own checks do ("policy: incidents.reminder-seconds[0]: …").
   */
  private static IOException refused(MismatchedInputException e) {
    String key =
        e.getPath().stream()
            .map(r -> r.getFieldName() != null ? "." + r.getFieldName() : "[" + r.getIndex() + "]")
            .collect(Collectors.joining())
            .replaceFirst("^\\.", "");
    String why =
        e.getOriginalMessage() == null
            ? "not valid"
            : e.getOriginalMessage().lines().findFirst().orElse("not valid");
    var at = e.getLocation();
    String where =
        at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
    return new IOException("policy: " + key + ": " + why + where, e);
  }

  /** Numbers the daemon cannot run with are refused at load, naming the key, not at start. */
  private Policy checked() throws IOException {
    atLeast("verification.queue", verification.queue, 1);
    atLeast("verification.cache-entries", verification.cacheEntries, 1);
    atLeast("verification.large-file-bytes", verification.largeFileBytes, 0);
    atLeast("verification.inline-max-bytes", verification.inlineMaxBytes, 0);
    atLeast("verification.inline-millis-per-second", verification.inlineMillisPerSecond, 0);
    atMost("verification.inline-millis-per-second", verification.inlineMillisPerSecond, 1000);
    atLeast("verification.warm-up-runs", verification.warmUpRuns, 0);
    atLeast("verification.warm-up-execs", verification.warmUpExecs, 0);
    atLeast("reattestation.bytes-per-second", reattestation.bytesPerSecond, 1);
    seconds("reattestation.interval-seconds", reattestation.intervalSeconds, 1);
    atLeast("reattestation.warm-up-runs", reattestation.warmUpRuns, 0);
    seconds("aggregation.window-seconds", aggregation.windowSeconds, 1);
    atLeast("aggregation.max-keys", aggregation.maxKeys, 1);
    seconds("aggregation.drop-report-seconds", aggregation.dropReportSeconds, 1);
    if (incidents.groupMillis < 0 || incidents.groupMillis > 3_600_000) {
      throw new IOException(
          "policy: incidents.group-millis must be from 0 to 3600000, got " + incidents.groupMillis);
    }
    if (incidents.reminderSeconds.isEmpty()) {
      throw new IOException("policy: incidents.reminder-seconds must list at least one delay");
    }
    for (long delay : incidents.reminderSeconds) {
      seconds("incidents.reminder-seconds", delay, 1);
    }
    rate("sinks.console.rate", sinks.console.rate);
    atLeast("sinks.console.burst", sinks.console.burst, 1);
    rate("sinks.journal.rate", sinks.journal.rate);
    atLeast("sinks.journal.burst", sinks.journal.burst, 1);
    rate("sinks.webhook-rate", sinks.webhookRate);
    rate("sinks.syslog-rate", sinks.syslogRate);
    if (sinks.metricsPort < 0 || sinks.metricsPort > 65_535) {
      throw new IOException(
          "policy: sinks.metrics-port must be 0 (off) to 65535, got " + sinks.metricsPort);
    }
    return this;
  }

  /** A year: longer durations only overflow the clock arithmetic they feed. */
  private static final long MAX_SECONDS = 366L * 24 * 3600;

  private static void seconds(String key, long value, long min) throws IOException {
    if (value < min || value > MAX_SECONDS) {
      throw new IOException(
          "policy: "
              + key
              + " must be from "
              + min
              + " to "
              + MAX_SECONDS
              + " seconds, got "
              + value);
    }
  }

  private static void atLeast(String key, long value, long min) throws IOException {
    if (value < min) {
      throw new IOException("policy: " + key + " must be at least " + min + ", got " + value);
    }
  }

  private static void atMost(String key, long value, long max) throws IOException {
    if (value > max) {
      throw new IOException("policy: " + key + " must be at most " + max + ", got " + value);
    }
  }

  private static void rate(String key, double value) throws IOException {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new IOException("policy: " + key + " must be a positive number, got " + value);
    }
  }

  /** The embedded default. */
  public static Policy defaults() {
    try (InputStream in = Policy.class.getResourceAsStream("default-policy.yaml")) {
      if (in == null) {
        throw new IllegalStateException("default-policy.yaml missing from the jar");
      }
      Policy p = mapper().readValue(in, Policy.class);
      return p == null ? new Policy() : p;
    } catch (IOException e) {
      throw new UncheckedIOException("embedded default policy is unreadable", e);
    }
  }

  /**
   * The embedded default overlaid with {@code file}.
   *
   * @throws IOException if the file cannot be read or is not valid policy (message says where)
   */
  public static Policy load(Path file) throws IOException {
    Policy p = parse(Files.readAllBytes(file));
    p.source = file;
    return p;
  }

  /** {@link #load} of bytes already read: the seam the fuzz target drives. */
  static Policy parse(byte[] bytes) throws IOException {
    Policy base = defaults();
    if (bytes.length == 0) {
      return base;
    }
    Policy read;
    try {
      read = mapper().readerForUpdating(base).readValue(bytes);
    } catch (MismatchedInputException e) {
      throw refused(e);
    }
    return (read == null ? base : read).checked();
  }
}
