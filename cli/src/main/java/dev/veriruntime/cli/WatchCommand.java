package dev.veriruntime.cli;

import dev.veriruntime.agent.Daemon;
import dev.veriruntime.agent.Policy;
import dev.veriruntime.agent.SafePaths;
import dev.veriruntime.api.ApiServer;
import dev.veriruntime.api.GrpcServer;
import dev.veriruntime.ingest.KernelSupport;
import dev.veriruntime.ingest.ProbeException;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.verifier.reference.ReferenceException;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.ReferenceStore;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code veriruntime watch}: the main job. Loads the probe, scans running processes, verifies every
 * exec and executable mapping, and reports anomalies to the sinks until stopped (Ctrl-C or SIGTERM
 * detach the probe and flush the sinks).
 */
@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    description = {
      "Watch this host: verify every exec and executable mapping against trusted references.",
      "%nReports UNKNOWN_EXECUTION, VERIFY_FAILED, RUNTIME_DRIFT, SELF_INTEGRITY_FAILURE and VERIFICATION_DEGRADED. With no --refs and no --policy it runs on the embedded default: files whose bytes match the Debian package database are trusted; anything else that runs is reported. Needs root (see docs/operations.md).",
      "%nExit codes: 0 stopped cleanly, 2 usage, 10/11 unreadable or malformed refs/policy, 20 probe cannot run here, 21 probe failed to load, 23 state directory or a sink cannot be opened, 24 an unsafe path was refused (under /proc, /dev or /sys; a symbolic link in the state directory; owned by another user or writable by others)."
    })
public final class WatchCommand implements Callable<Integer> {

  /** How long SIGTERM waits for the daemon to flush and close before the JVM halts anyway. */
  private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(30);

  @Option(
      names = "--refs",
      paramLabel = "FILE",
      description = "Reference statements (DSSE envelope or in-toto statement JSON); repeatable.")
  List<Path> refs = new ArrayList<>();

  @Option(
      names = "--trusted-key",
      paramLabel = "PUB",
      description = "Public key (SPKI PEM) trusted to sign references; repeatable.")
  List<Path> trustedKeys = new ArrayList<>();

  @Option(
      names = "--policy",
      paramLabel = "FILE",
      description = "Policy file (YAML or JSON) over the embedded default; see docs/operations.md.")
  Path policyFile;

  @Option(
      names = "--json",
      description =
          "Console output as JSON lines (keys: type, time, pid, exe, reason, coverage, count, ...).")
  boolean json;

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      description = "State directory: evidence journal and node key (default: ${DEFAULT-VALUE}).")
  Path stateDir = Path.of("/var/lib/veriruntime");

  @Option(
      names = "--journal",
      paramLabel = "DIR",
      description = "Evidence journal directory (default: the state directory).")
  Path journalDir;

  @Option(names = "--webhook", paramLabel = "URL", description = "POST each event as JSON to URL.")
  String webhook;

  @Option(
      names = "--webhook-format",
      paramLabel = "FMT",
      description = "Webhook body: json, slack or falco (default: json).")
  String webhookFormat;

  @Option(names = "--slack", paramLabel = "URL", description = "Slack incoming-webhook URL.")
  String slack;

  @Option(
      names = "--syslog",
      paramLabel = "ADDR",
      description =
          "RFC 5424 syslog: udp://HOST:PORT, tcp://HOST:PORT, unix:///dev/log or unix-stream://PATH.")
  String syslog;

  @Option(
      names = "--metrics-port",
      paramLabel = "N",
      description = "Serve Prometheus metrics on 127.0.0.1:N.")
  Integer metricsPort;

  @Option(
      names = "--kafka",
      paramLabel = "BOOTSTRAP",
      description =
          "Send every event to Kafka (HOST:PORT[,HOST:PORT...]): key the host, value the event's"
              + " JSON, plus a heartbeat per host; TLS and SASL are set in the policy.")
  String kafka;

  @Option(
      names = "--kafka-topic",
      paramLabel = "TOPIC",
      description =
          "The Kafka topic for events (default: the policy's, veriruntime-events); heartbeats go"
              + " to TOPIC-heartbeat.")
  String kafkaTopic;

  @Option(names = "--no-journal", description = "Do not write the evidence journal.")
  boolean noJournal;

  @Option(names = "--no-scan", description = "Skip the start-up scan of already-running processes.")
  boolean noScan;

  @Option(
      names = "--duration",
      paramLabel = "D",
      converter = DurationConverter.class,
      description = "Stop after D (e.g. 30s, 5m); default: run until stopped.")
  Duration duration;

  @Option(
      names = "--socket",
      paramLabel = "PATH",
      description =
          "Serve the control API (verify-process, verify-binary, state, health) on this Unix socket, mode 0600 (default: ${DEFAULT-VALUE}).")
  Path socket = ApiServer.DEFAULT_SOCKET;

  @Option(
      names = "--no-api",
      description = "Do not serve the control API (neither the JSON nor the gRPC socket).")
  boolean noApi;

  @Option(
      names = "--grpc-listen",
      paramLabel = "HOST:PORT",
      description =
          "Also serve the gRPC API on TCP at HOST:PORT, with mutual TLS only: needs --tls-cert,"
              + " --tls-key and --tls-client-ca (plain TCP is refused, exit 15). The gRPC API is"
              + " always served on the Unix socket PATH.grpc beside --socket.")
  String grpcListen;

  @Option(
      names = "--tls-cert",
      paramLabel = "FILE",
      description = "The gRPC TCP listener's certificate chain (PEM).")
  Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      description = "The private key of --tls-cert (PKCS#8 PEM).")
  Path tlsKey;

  @Option(
      names = "--tls-client-ca",
      paramLabel = "FILE",
      description =
          "The CA certificate(s) (PEM) that sign the client certificates the gRPC TCP listener"
              + " accepts; a client without one is refused.")
  Path tlsClientCa;

  @Option(
      names = "--ui-port",
      paramLabel = "N",
      description =
          "Serve the trust-chain web view on 127.0.0.1:N (read-only). The address with a new"
              + " random token is printed at start, and every request must carry that token; see"
              + " docs/ui.md for reaching it from another machine through an SSH tunnel.")
  Integer uiPort;

  @Option(
      names = "--lineage-root",
      paramLabel = "DIR",
      description =
          "Build lineage: trust files that verified toolchain processes (GCC, binutils, LLVM, Go,"
              + " Rust) wrote under DIR and nothing changed since (scope LINEAGE, journaled, no"
              + " alert); repeatable; adds to the policy's lineage.roots. Off when none is given.")
  List<Path> lineageRoots = new ArrayList<>();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** The gRPC TCP listener asked for, or null; never plain TCP. */
  private Daemon.GrpcTcp grpcTcp() {
    boolean anyTls = tlsCert != null || tlsKey != null || tlsClientCa != null;
    if (grpcListen == null) {
      if (anyTls) {
        throw new CliException(
            ExitCodes.USAGE, "--tls-cert, --tls-key and --tls-client-ca need --grpc-listen");
      }
      return null;
    }
    if (tlsCert == null || tlsKey == null || tlsClientCa == null) {
      throw new CliException(
          ExitCodes.TLS_REQUIRED,
          "--grpc-listen "
              + grpcListen
              + ": plain TCP is refused; give --tls-cert, --tls-key and --tls-client-ca (mutual"
              + " TLS), or use the Unix socket");
    }
    if (noApi) {
      throw new CliException(ExitCodes.USAGE, "--grpc-listen needs the control API: drop --no-api");
    }
    for (Path p : List.of(tlsCert, tlsKey, tlsClientCa)) {
      if (!Files.isReadable(p) || Files.isDirectory(p)) {
        throw new CliException(ExitCodes.TLS_REQUIRED, "cannot read TLS file " + p);
      }
    }
    return new Daemon.GrpcTcp(
        hostPort(grpcListen), new GrpcServer.Tls(tlsCert, tlsKey, tlsClientCa));
  }

  /** {@code HOST:PORT} or {@code [IPv6]:PORT}. */
  static InetSocketAddress hostPort(String text) {
    int colon = text.lastIndexOf(':');
    String host = colon > 0 ? text.substring(0, colon) : "";
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException | IndexOutOfBoundsException e) {
      port = -1;
    }
    if (host.isEmpty() || port < 0 || port > 65535) {
      throw new CliException(
          ExitCodes.USAGE, "--grpc-listen must be HOST:PORT (e.g. 0.0.0.0:7443), got " + text);
    }
    InetSocketAddress address = new InetSocketAddress(host, port);
    if (address.isUnresolved()) {
      throw new CliException(ExitCodes.USAGE, "--grpc-listen: unknown host " + host);
    }
    return address;
  }

  @Override
  public Integer call() {
    Daemon.GrpcTcp grpcTcp = grpcTcp();
    if (uiPort != null && (uiPort < 1 || uiPort > 65535)) {
      throw new CliException(
          ExitCodes.USAGE, "--ui-port must be a port from 1 to 65535: " + uiPort);
    }
    SafePaths safe = new SafePaths();
    if (policyFile != null) {
      refuseUnsafe(() -> safe.inputFile(policyFile));
    }
    Policy policy = loadPolicy();
    for (String input : concat(policy.references, policy.trustedKeys)) {
      refuseUnsafe(() -> safe.inputFile(Path.of(input)));
    }
    if (!noJournal) {
      // Nothing is written to the state directory without the journal.
      refuseUnsafe(() -> safe.stateDirectory(journalDir == null ? stateDir : journalDir));
    }
    if (!noApi) {
      refuseUnsafe(() -> safe.socket(socket));
    }
    Optional<String> unavailable = KernelSupport.unavailableReason();
    if (unavailable.isPresent()) {
      throw new CliException(
          ExitCodes.KERNEL_UNSUPPORTED, "cannot load the probe here: " + unavailable.get());
    }
    ReferenceStore store;
    try {
      store =
          new ReferenceLoader(
                  ReferenceFiles.trustedKeys(policy.trustedKeys.stream().map(Path::of).toList()),
                  SignaturePolicy.ALLOW_UNSIGNED)
              .loadAll(policy.references.stream().map(Path::of).toList());
    } catch (ReferenceException e) {
      throw ExitCodes.failure(e);
    }
    PrintStream out = System.out;
    PrintStream err = System.err;
    Daemon.Settings settings =
        new Daemon.Settings(
            policy,
            store,
            json,
            stateDir,
            journalDir == null ? stateDir : journalDir,
            !noJournal,
            !noScan,
            noApi ? null : socket,
            uiPort == null ? -1 : uiPort,
            grpcTcp);
    Daemon daemon;
    try {
      daemon = Daemon.start(settings, ProbeSettings.forCurrentProcess(), out, err);
    } catch (ProbeException e) {
      throw new CliException(ExitCodes.PROBE_FAILED, "probe failed: " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, e.getMessage(), e);
    } catch (SafePaths.UnsafePathException e) {
      throw new CliException(ExitCodes.PATH_REFUSED, "refused: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.STATE_UNWRITABLE,
          "cannot open the state directory or a sink: " + e.getMessage(),
          e);
    }
    CountDownLatch closed = new CountDownLatch(1);
    StopAwareLogManager.holdResetUntil(closed, SHUTDOWN_WAIT);
    Thread stopper =
        new Thread(
            () -> {
              daemon.stop();
              // The JVM halts when its shutdown hooks return: wait until run() has ended and the
              // sinks are flushed and closed (the journal's last batch, its checkpoint and head,
              // the
              // run marker's removal), or a SIGTERM would lose what a clean stop promises.
              try {
                closed.await(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "veriruntime-shutdown");
    Runtime.getRuntime().addShutdownHook(stopper);
    try {
      daemon.run(duration);
    } finally {
      daemon.close();
      closed.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(stopper);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it stops the daemon itself
      }
    }
    return ExitCodes.OK;
  }

  /** A check of {@link SafePaths}. */
  @FunctionalInterface
  private interface PathCheck {
    void run() throws IOException;
  }

  /** Exit 24 with one line naming the path and why; an unreadable path is left to its reader. */
  private static void refuseUnsafe(PathCheck check) {
    try {
      check.run();
    } catch (SafePaths.UnsafePathException e) {
      throw new CliException(ExitCodes.PATH_REFUSED, "refused: " + e.getMessage());
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.STATE_UNWRITABLE, "cannot check a path: " + IoErrors.describe(e));
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private Policy loadPolicy() {
    Policy p;
    try {
      p = policyFile == null ? Policy.defaults() : Policy.load(policyFile);
    } catch (java.nio.file.NoSuchFileException | java.nio.file.AccessDeniedException e) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE,
          "cannot read policy " + policyFile + ": " + e.getClass().getSimpleName());
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.INPUT_MALFORMED,
          "policy " + policyFile + " is not valid: " + firstLine(e.getMessage()));
    }
    refs.forEach(r -> p.references.add(r.toString()));
    trustedKeys.forEach(k -> p.trustedKeys.add(k.toString()));
    if (webhook != null) {
      p.sinks.webhook = webhook;
    }
    if (webhookFormat != null) {
      p.sinks.webhookFormat = webhookFormat;
    }
    if (slack != null) {
      p.sinks.slack = slack;
    }
    if (syslog != null) {
      p.sinks.syslog = syslog;
    }
    if (metricsPort != null) {
      p.sinks.metricsPort = metricsPort;
    }
    if (kafka != null) {
      p.sinks.kafka.bootstrap = kafka;
    }
    if (kafkaTopic != null) {
      if (p.sinks.kafka.bootstrap.isBlank()) {
        throw new CliException(
            ExitCodes.USAGE, "--kafka-topic needs --kafka or sinks.kafka.bootstrap");
      }
      p.sinks.kafka.topic = kafkaTopic;
    }
    for (Path root : lineageRoots) {
      Path dir = root.toAbsolutePath().normalize();
      if (!java.nio.file.Files.isDirectory(dir)) {
        throw new CliException(ExitCodes.USAGE, "--lineage-root " + root + ": not a directory");
      }
      p.lineage.roots.add(dir.toString());
    }
    return p;
  }

  static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
