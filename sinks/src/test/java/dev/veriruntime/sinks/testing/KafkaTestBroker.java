package dev.veriruntime.sinks.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

/**
 * A real Apache Kafka broker for tests: one KRaft node (broker and controller in one process) from
 * the {@code kafka_2.13} Maven artifact, run in a child JVM on this test's classpath, listening on
 * 127.0.0.1 only, with its log directory in a temporary directory. No container, no network beyond
 * loopback, no root. {@link #stop()} ends the process (an outage); {@link #start()} starts it again
 * on the same ports and the same log directory, so what was written survives like on a real
 * restart.
 *
 * <p>Auto-creation of topics is off: a test creates its topics with {@link #createTopic}, so a
 * producer that names a missing topic fails instead of inventing one. Not thread-safe; {@link
 * #close()} stops the broker and removes the directory.
 *
 * <p>{@link #start(String, Secured)} adds what a secured cluster offers its clients, beside the
 * plaintext listener the tests' own admin and reader keep using: an {@code SSL} listener that
 * requires a client certificate signed by the given CA, and a {@code SASL_SSL} listener with {@code
 * PLAIN}, {@code SCRAM-SHA-256} and {@code SCRAM-SHA-512} for the given users (the SCRAM
 * credentials written into the cluster's metadata when its storage is formatted).
 */
public final class KafkaTestBroker implements AutoCloseable {
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

  /** Kafka's clients log every connection attempt at INFO: tests keep warnings only. */
  private static final java.util.logging.Logger KAFKA_LOGS = quietKafkaLogs();

  private static java.util.logging.Logger quietKafkaLogs() {
    java.util.logging.Logger kafka = java.util.logging.Logger.getLogger("org.apache.kafka");
    kafka.setLevel(java.util.logging.Level.WARNING);
    return kafka;
  }

  /**
   * The TLS and SASL listeners' material: PEM files of the broker's trust (the CA that signs the
   * clients' certificates) and of its own certificate chain and unencrypted PKCS#8 key (for
   * 127.0.0.1), and the SASL users with their passwords (letters, digits and {@code -_.} only: the
   * storage tool's SCRAM syntax and the JAAS line take them as they are).
   */
  public record Secured(Path ca, Path certificateChain, Path key, Map<String, String> users) {
    public Secured {
      users = Map.copyOf(users);
      for (String password : users.values()) {
        if (!password.matches("[A-Za-z0-9._-]+")) {
          throw new IllegalArgumentException("test passwords are letters, digits and -_. only");
        }
      }
    }
  }

  private final Path dir;
  private final int brokerPort;
  private final int controllerPort;
  private final int sslPort;
  private final int saslSslPort;
  private final Secured secured;
  private final Path config;
  private Process process;

  private KafkaTestBroker(Path dir, Secured secured) throws IOException {
    this.dir = dir;
    this.secured = secured;
    this.brokerPort = freePort();
    this.controllerPort = freePort();
    this.sslPort = secured == null ? 0 : freePort();
    this.saslSslPort = secured == null ? 0 : freePort();
    this.config = dir.resolve("server.properties");
    String clientListeners =
        "PLAINTEXT://127.0.0.1:"
            + brokerPort
            + (secured == null
                ? ""
                : ",SSL://127.0.0.1:" + sslPort + ",SASL_SSL://127.0.0.1:" + saslSslPort);
    Properties p = new Properties();
    p.putAll(
        Map.ofEntries(
            Map.entry("process.roles", "broker,controller"),
            Map.entry("node.id", "1"),
            Map.entry("controller.quorum.voters", "1@127.0.0.1:" + controllerPort),
            Map.entry("listeners", clientListeners + ",CONTROLLER://127.0.0.1:" + controllerPort),
            Map.entry("advertised.listeners", clientListeners),
            Map.entry("controller.listener.names", "CONTROLLER"),
            Map.entry("inter.broker.listener.name", "PLAINTEXT"),
            Map.entry(
                "listener.security.protocol.map",
                "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"),
            Map.entry("log.dirs", dir.resolve("log").toString()),
            Map.entry("auto.create.topics.enable", "false"),
            Map.entry("num.partitions", "3"),
            Map.entry("offsets.topic.replication.factor", "1"),
            Map.entry("offsets.topic.num.partitions", "1"),
            Map.entry("transaction.state.log.replication.factor", "1"),
            Map.entry("transaction.state.log.min.isr", "1"),
            Map.entry("share.coordinator.state.topic.replication.factor", "1"),
            Map.entry("share.coordinator.state.topic.min.isr", "1"),
            Map.entry("group.initial.rebalance.delay.ms", "0")));
    if (secured != null) {
      p.putAll(securedListeners(secured));
    }
    try (var out = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
      p.store(out, "veriruntime test broker");
    }
  }

  /** Formats a fresh log directory and starts the broker; returns once it answers. */
  public static KafkaTestBroker start(String name) throws IOException {
    return start(name, null);
  }

  /**
   * As {@link #start(String)}, with the {@code SSL} and {@code SASL_SSL} listeners of {@code
   * secured} besides the plaintext one ({@code null}: plaintext only).
   */
  public static KafkaTestBroker start(String name, Secured secured) throws IOException {
    KAFKA_LOGS.fine("starting a test broker");
    KafkaTestBroker broker =
        new KafkaTestBroker(Files.createTempDirectory("veriruntime-kafka-" + name + "-"), secured);
    try {
      broker.format();
      broker.start();
      return broker;
    } catch (IOException | RuntimeException e) {
      broker.close();
      throw e;
    }
  }

  /** {@code 127.0.0.1:PORT} of the broker listener. */
  public String bootstrap() {
    return "127.0.0.1:" + brokerPort;
  }

  /** {@code 127.0.0.1:PORT} of the listener that requires a client certificate. */
  public String sslBootstrap() {
    return "127.0.0.1:" + securedPort(sslPort);
  }

  /** {@code 127.0.0.1:PORT} of the SASL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 over TLS). */
  public String saslSslBootstrap() {
    return "127.0.0.1:" + securedPort(saslSslPort);
  }

  private int securedPort(int port) {
    if (secured == null) {
      throw new IllegalStateException("this broker was started without TLS and SASL listeners");
    }
    return port;
  }

  /**
   * The broker settings of the TLS and SASL listeners (PEM material inline, as clients give it).
   */
  private static Map<String, String> securedListeners(Secured secured) throws IOException {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("ssl.keystore.type", "PEM");
    p.put("ssl.keystore.certificate.chain", Files.readString(secured.certificateChain()));
    p.put("ssl.keystore.key", Files.readString(secured.key()));
    p.put("ssl.truststore.type", "PEM");
    p.put("ssl.truststore.certificates", Files.readString(secured.ca()));
    p.put("listener.name.ssl.ssl.client.auth", "required");
    p.put("listener.name.sasl_ssl.ssl.client.auth", "none");
    p.put("listener.name.sasl_ssl.sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512");
    StringBuilder plain =
        new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required");
    secured
        .users()
        .forEach(
            (user, password) ->
                plain.append(" user_").append(user).append("=\"").append(password).append('"'));
    p.put("listener.name.sasl_ssl.plain.sasl.jaas.config", plain.append(';').toString());
    for (String scram : List.of("scram-sha-256", "scram-sha-512")) {
      p.put(
          "listener.name.sasl_ssl." + scram + ".sasl.jaas.config",
          "org.apache.kafka.common.security.scram.ScramLoginModule required;");
    }
    return p;
  }

  public boolean running() {
    return process != null && process.isAlive();
  }

  /** Starts the broker process (after {@link #stop()}) and waits until it answers. */
  public void start() throws IOException {
    if (running()) {
      return;
    }
    process = java(List.of("kafka.Kafka", config.toString()), dir.resolve("broker.log"));
    awaitReady();
  }

  /**
   * Kills the broker process (SIGKILL: a crash, and quick; what it acknowledged is in the page
   * cache and survives) and waits until it is gone: from now on clients see connection refused.
   */
  public void stop() {
    if (process == null) {
      return;
    }
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    process = null;
  }

  /** Creates a topic with one replica. */
  public void createTopic(String topic, int partitions) {
    try (Admin admin = admin()) {
      admin
          .createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot create topic " + topic, e);
    }
  }

  /** An admin client for this broker; the caller closes it. */
  public Admin admin() {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000));
  }

  @Override
  public void close() {
    stop();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temporary directory is not worth failing a test for
    }
  }

  private void format() throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                Uuid.randomUuid().toString(),
                "-c",
                config.toString()));
    if (secured != null) {
      secured
          .users()
          .forEach(
              (user, password) -> {
                for (String mechanism : List.of("SCRAM-SHA-256", "SCRAM-SHA-512")) {
                  args.add("--add-scram");
                  args.add(mechanism + "=[name=" + user + ",password=" + password + "]");
                }
              });
    }
    Process f = java(args, dir.resolve("format.log"));
    try {
      if (!f.waitFor(60, TimeUnit.SECONDS) || f.exitValue() != 0) {
        f.destroyForcibly();
        throw new IOException("kafka storage format failed: " + log("format.log"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while formatting", e);
    }
  }

  private void awaitReady() throws IOException {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    try (Admin admin = admin()) {
      while (true) {
        if (!process.isAlive()) {
          throw new IOException("kafka broker exited: " + log("broker.log"));
        }
        try {
          // Metadata answered by the broker means its listener and the controller quorum are up.
          if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
            return;
          }
        } catch (ExecutionException | TimeoutException notYet) {
          // still starting
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for the broker", e);
        }
        if (System.nanoTime() > deadline) {
          throw new IOException(
              "kafka broker not ready after " + READY_TIMEOUT + ": " + log("broker.log"));
        }
      }
    }
  }

  private Process java(List<String> mainAndArgs, Path logFile) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // Small and quick to start: this broker holds a few thousand records.
    cmd.addAll(
        List.of(
            "-Xmx384m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            "-cp",
            System.getProperty("java.class.path")));
    cmd.addAll(mainAndArgs);
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
        .start();
  }

  private String log(String name) {
    try {
      List<String> lines = Files.readAllLines(dir.resolve(name), StandardCharsets.UTF_8);
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      return s.getLocalPort();
    }
  }
}
