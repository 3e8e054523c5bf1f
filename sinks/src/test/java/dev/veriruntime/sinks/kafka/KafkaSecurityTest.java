package dev.veriruntime.sinks.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaSecurityTest {

  @Test
  void tlsFilesBecomePemClientSettings(@TempDir Path dir) throws Exception {
    Path ca = Files.writeString(dir.resolve("ca.pem"), "CA PEM");
    Path cert = Files.writeString(dir.resolve("cert.pem"), "CERT PEM");
    Path key = Files.writeString(dir.resolve("key.pem"), "KEY PEM");
    Map<String, Object> p =
        new KafkaSecurity("ssl", ca, cert, key, null, null, null).clientProperties();
    assertThat(p)
        .containsEntry("security.protocol", "SSL")
        .containsEntry("ssl.truststore.type", "PEM")
        .containsEntry("ssl.truststore.certificates", "CA PEM")
        .containsEntry("ssl.keystore.type", "PEM")
        .containsEntry("ssl.keystore.certificate.chain", "CERT PEM")
        .containsEntry("ssl.keystore.key", "KEY PEM");
  }

  @Test
  void saslPasswordComesFromItsFileAndIsQuotedForJaas(@TempDir Path dir) throws Exception {
    Path pw = Files.writeString(dir.resolve("pw"), "s3\"cr\\et\n");
    Map<String, Object> p =
        new KafkaSecurity("SASL_SSL", null, null, null, "scram-sha-512", "agent", pw)
            .clientProperties();
    assertThat(p)
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
        .containsEntry(
            "sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required"
                + " username=\"agent\" password=\"s3\\\"cr\\\\et\";");
  }

  @Test
  void inconsistentSettingsAreRefusedWithTheReason(@TempDir Path dir) {
    Path f = dir.resolve("x");
    assertThatThrownBy(() -> new KafkaSecurity("TLS", null, null, null, null, null, null))
        .hasMessageContaining("protocol must be one of");
    assertThatThrownBy(() -> new KafkaSecurity("SSL", null, f, null, null, null, null))
        .hasMessageContaining("tls-cert and tls-key go together");
    assertThatThrownBy(() -> new KafkaSecurity("PLAINTEXT", f, null, null, null, null, null))
        .hasMessageContaining("has no TLS");
    assertThatThrownBy(() -> new KafkaSecurity("SASL_SSL", null, null, null, "PLAIN", "u", null))
        .hasMessageContaining("needs sasl-username and sasl-password-file");
    assertThatThrownBy(() -> new KafkaSecurity("SSL", null, null, null, "PLAIN", "u", f))
        .hasMessageContaining("has no SASL");
  }

  @Test
  void producerIsIdempotentWithAllAcksAndBoundedBlocking() throws Exception {
    KafkaOptions o = KafkaOptions.defaults("k1:9093", "events");
    Map<String, Object> c = KafkaSink.producerConfig(o, "build-7");
    assertThat(c)
        .containsEntry("acks", "all")
        .containsEntry("enable.idempotence", true)
        .containsEntry("max.block.ms", 2_000L)
        .containsEntry("delivery.timeout.ms", 120_000)
        .containsEntry("client.id", "veriruntime-build-7")
        .containsEntry("compression.type", "lz4");
    assertThat(o.heartbeatTopic()).isEqualTo("events-heartbeat");
    assertThatThrownBy(() -> o.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(30)))
        .hasMessageContaining("delivery timeout must be at least");
  }
}
