package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.TestCertificates;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.kafka.KafkaOptions;
import dev.veriruntime.sinks.kafka.KafkaSink;
import dev.veriruntime.sinks.testing.KafkaTestBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fleet summary --consumer-config} against a secured broker ({@link KafkaTestBroker} with
 * its SASL_SSL listener; the CA made by {@link TestCertificates} for this run): the properties file
 * an operator writes for Kafka's own tools reads the fleet over SCRAM and TLS, and a wrong password
 * is one line naming the authentication failure with the documented exit code. No root; *IT because
 * it starts a broker.
 */
class FleetSummarySecuredIT {
  private static final String TOPIC = "fleet-secured";
  private static final String PASSWORD = "reader-secret";
  private static final String SHA = "dd".repeat(32);

  @TempDir static Path dir;
  private static KafkaTestBroker broker;
  private static TestCertificates.Issued ca;

  @BeforeAll
  static void writeOneHost() throws Exception {
    ca = TestCertificates.authority(dir, "fleet-ca");
    TestCertificates.Issued server = TestCertificates.leaf(dir, "broker", ca);
    broker =
        KafkaTestBroker.start(
            "fleet-secured",
            new KafkaTestBroker.Secured(
                ca.certFile(), server.certFile(), server.keyFile(), Map.of("reader", PASSWORD)));
    broker.createTopic(TOPIC, 1);
    broker.createTopic(KafkaOptions.heartbeatTopicOf(TOPIC), 1);
    try (KafkaSink sink =
        KafkaSink.open(
            KafkaOptions.defaults(broker.bootstrap(), TOPIC), "host-s", Clock.systemUTC(), null)) {
      sink.emit(
          SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, Instant.now())
              .host("host-s")
              .pid(4242)
              .exe("/tmp/dropped", 2049, 12, SHA)
              .reason("no trusted reference for sha256 dddddddd")
              .build());
      sink.flush().block(Duration.ofSeconds(30));
    }
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  /** The consumer properties for SCRAM-SHA-512 over TLS, as for Kafka's console consumer. */
  private static Path consumerConfig(String password) throws Exception {
    return Files.writeString(
        dir.resolve("consumer-" + password + ".properties"),
        "security.protocol=SASL_SSL\n"
            + "ssl.truststore.type=PEM\n"
            + "ssl.truststore.location="
            + ca.certFile()
            + "\nsasl.mechanism=SCRAM-SHA-512\n"
            + "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required"
            + " username=\"reader\" password=\""
            + password
            + "\";\n");
  }

  /**
   * {@code fleet summary} of the topic over the SASL_SSL listener, as the reader with {@code
   * password}.
   */
  private static CliRun summary(String password, String... more) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "fleet",
                "summary",
                "--kafka",
                broker.saslSslBootstrap(),
                "--topic",
                TOPIC,
                "--consumer-config",
                consumerConfig(password).toString()));
    args.addAll(List.of(more));
    return CliRun.of(args.toArray(String[]::new));
  }

  @Test
  void readsTheFleetOverScramAndTls() throws Exception {
    CliRun run = summary(PASSWORD, "--json");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.FINDINGS);
    JsonNode unknown = run.json().get("unknownDigests");
    assertThat(unknown).hasSize(1);
    assertThat(unknown.get(0).get("host").asText()).isEqualTo("host-s");
    assertThat(unknown.get(0).get("sha256").asText()).isEqualTo(SHA);
  }

  @Test
  void aWrongPasswordIsExit61AndOneLineNamingTheAuthenticationFailure() throws Exception {
    CliRun run = summary("not-" + PASSWORD, "--timeout", "10s").refused(ExitCodes.KAFKA_REFUSED);
    assertThat(run.err()).contains("Authentication failed").contains("SCRAM-SHA-512");
  }
}
