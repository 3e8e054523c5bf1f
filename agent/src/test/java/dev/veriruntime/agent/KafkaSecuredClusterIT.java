package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.api.TestCertificates;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.SinkStats;
import dev.veriruntime.sinks.kafka.KafkaSink;
import dev.veriruntime.sinks.testing.KafkaTestBroker;
import dev.veriruntime.sinks.testing.KafkaTopicContents;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Hooks;

/**
 * The policy's Kafka security settings ({@code sinks.kafka.security-protocol}, {@code tls-*},
 * {@code sasl-*}; docs/operations.md) against a real secured broker ({@link KafkaTestBroker} with
 * its {@code SSL} listener requiring a client certificate and its {@code SASL_SSL} listener;
 * certificates made by {@link TestCertificates} for this run). Each policy goes through {@link
 * Daemon#kafkaOptions} into a {@link KafkaSink}, as {@code watch} builds it; what arrived is read
 * back over the broker's plaintext listener. The refusals check that a wrong setting delivers
 * nothing and that the sink says why. No root; *IT because it starts a broker.
 */
class KafkaSecuredClusterIT {
  private static final String USER = "agent";
  private static final String PASSWORD = "s3cret-for.this_run";
  private static final AtomicInteger TOPICS = new AtomicInteger();

  @TempDir static Path dir;
  private static KafkaTestBroker broker;
  private static TestCertificates.Issued ca;
  private static TestCertificates.Issued client;
  private static Path passwordFile;

  @BeforeAll
  static void startSecuredBroker() throws Exception {
    ca = TestCertificates.authority(dir, "kafka-ca");
    TestCertificates.Issued server = TestCertificates.leaf(dir, "broker", ca);
    client = TestCertificates.leaf(dir, "agent", ca);
    // As an operator writes it: one line, with its newline.
    passwordFile = Files.writeString(dir.resolve("kafka-password"), PASSWORD + "\n");
    broker =
        KafkaTestBroker.start(
            "secured",
            new KafkaTestBroker.Secured(
                ca.certFile(), server.certFile(), server.keyFile(), Map.of(USER, PASSWORD)));
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void mutualTlsDeliversEveryEvent() throws Exception {
    assertDelivered(
        broker.sslBootstrap(),
        "    security-protocol: SSL\n"
            + tls()
            + "    tls-cert: "
            + client.certFile()
            + "\n    tls-key: "
            + client.keyFile()
            + "\n");
  }

  @Test
  void scramOverTlsWithThePasswordFromItsFileDeliversEveryEvent() throws Exception {
    for (String mechanism : List.of("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")) {
      assertDelivered(broker.saslSslBootstrap(), sasl(mechanism, passwordFile));
    }
  }

  @Test
  void aWrongPasswordDeliversNothingAndTheSinkSaysAuthenticationFailed() throws Exception {
    Path wrong = Files.writeString(dir.resolve("wrong-password"), "not-" + PASSWORD + "\n");
    assertRefused(broker.saslSslBootstrap(), sasl("SCRAM-SHA-512", wrong), "Authentication failed");
  }

  @Test
  void withoutItsClientCertificateTheAgentIsRefused() throws Exception {
    assertRefused(
        broker.sslBootstrap(),
        "    security-protocol: SSL\n" + tls(),
        "SslAuthenticationException");
  }

  @Test
  void aBrokerCertificateFromAnotherAuthorityIsNotTrusted() throws Exception {
    TestCertificates.Issued other = TestCertificates.authority(dir, "other-ca");
    assertRefused(
        broker.saslSslBootstrap(),
        sasl("SCRAM-SHA-512", passwordFile)
            .replace(ca.certFile().toString(), other.certFile().toString()),
        "SslAuthenticationException");
  }

  private static String tls() {
    return "    tls-ca: " + ca.certFile() + "\n";
  }

  private static String sasl(String mechanism, Path password) {
    return "    security-protocol: SASL_SSL\n"
        + tls()
        + "    sasl-mechanism: "
        + mechanism
        + "\n    sasl-username: "
        + USER
        + "\n    sasl-password-file: "
        + password
        + "\n";
  }

  /** Three events through a sink built from {@code security}; all three on the topic, in order. */
  private static void assertDelivered(String bootstrap, String security) throws Exception {
    String topic = newTopic();
    KafkaSink sink = sink(bootstrap, topic, security);
    List<String> ids;
    try {
      List<SecurityEvent> events = List.of(event(1), event(2), event(3));
      events.forEach(e -> assertThat(sink.emit(e)).isTrue());
      sink.flush().block(Duration.ofSeconds(30));
      ids = events.stream().map(SecurityEvent::id).toList();
      assertThat(sink.stats().delivered()).as(security).isEqualTo(3);
    } finally {
      sink.close();
    }
    assertThat(
            KafkaTopicContents.read(broker.bootstrap(), topic).stream()
                .map(r -> EventJson.fromJson(r.value()).id())
                .toList())
        .as(security)
        .isEqualTo(ids);
  }

  /**
   * An event through a sink built from {@code security}: never delivered, the topic stays empty,
   * and the sink's last failure names {@code why} within 30 s. Closing it, while it still waits for
   * the broker, raises nothing behind the agent's back (an error Reactor could only log as dropped:
   * what closing did on every stop of an agent whose broker refused it).
   */
  private static void assertRefused(String bootstrap, String security, String why)
      throws Exception {
    String topic = newTopic();
    KafkaSink sink = sink(bootstrap, topic, security);
    List<Throwable> dropped = new CopyOnWriteArrayList<>();
    Hooks.onErrorDropped(dropped::add);
    try {
      assertThat(sink.emit(event(1))).isTrue();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (sink.stats().lastFailure() == null && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      SinkStats stats = sink.stats();
      assertThat(stats.lastFailure()).as(security).isNotNull().contains(why);
      assertThat(stats.delivered()).isZero();
    } finally {
      sink.close();
    }
    Thread.sleep(1_000); // the producer's waiters end as it closes, on its own threads
    Hooks.resetOnErrorDropped();
    assertThat(dropped).isEmpty();
    assertThat(KafkaTopicContents.read(broker.bootstrap(), topic)).isEmpty();
  }

  private static String newTopic() {
    String topic = "secured-" + TOPICS.incrementAndGet();
    broker.createTopic(topic, 1);
    return topic;
  }

  private static KafkaSink sink(String bootstrap, String topic, String security) throws Exception {
    Path policy = dir.resolve(topic + ".yaml");
    Files.writeString(
        policy,
        "sinks:\n  kafka:\n    bootstrap: "
            + bootstrap
            + "\n    topic: "
            + topic
            + "\n    heartbeat-seconds: 0\n"
            + security);
    return KafkaSink.open(
        Daemon.kafkaOptions(Policy.load(policy).sinks.kafka),
        "secured-host",
        Clock.systemUTC(),
        null);
  }

  private static SecurityEvent event(int n) {
    return SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, Instant.now())
        .host("secured-host")
        .pid(1000 + n)
        .reason("unknown executable " + n)
        .build();
  }
}
