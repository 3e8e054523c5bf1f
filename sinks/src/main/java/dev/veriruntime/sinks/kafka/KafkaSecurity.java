package dev.veriruntime.sinks.kafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;

/**
 * How a Kafka client authenticates and encrypts: the policy's {@code sinks.kafka} security keys as
 * Kafka client properties. TLS material is read from PEM files (the same kind of files as the
 * agent's other TLS settings); a SASL password is read from a file so it never sits in the policy.
 *
 * @param protocol {@code PLAINTEXT}, {@code SSL}, {@code SASL_PLAINTEXT} or {@code SASL_SSL}
 * @param tlsCa PEM file of the CA certificates that sign the brokers' certificates, or {@code null}
 *     for the JVM's default trust store
 * @param tlsCert PEM certificate chain presented to the brokers (mutual TLS), or {@code null}
 * @param tlsKey PEM PKCS#8 private key of {@code tlsCert} (unencrypted), or {@code null}
 * @param saslMechanism {@code PLAIN}, {@code SCRAM-SHA-256} or {@code SCRAM-SHA-512}, or {@code
 *     null} without SASL
 * @param saslUsername the SASL user
 * @param saslPasswordFile a file holding the SASL password (trailing newline ignored)
 */
public record KafkaSecurity(
    String protocol,
    Path tlsCa,
    Path tlsCert,
    Path tlsKey,
    String saslMechanism,
    String saslUsername,
    Path saslPasswordFile) {
  private static final Set<String> PROTOCOLS =
      Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
  private static final Set<String> MECHANISMS = Set.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");

  /** No encryption, no authentication (a broker on a trusted network or loopback). */
  public static final KafkaSecurity PLAINTEXT =
      new KafkaSecurity("PLAINTEXT", null, null, null, null, null, null);

  /**
   * @throws IllegalArgumentException for an unknown protocol or mechanism, a certificate without
   *     key (or the reverse), TLS files with a protocol without TLS, or SASL settings that are
   *     incomplete or given with a protocol without SASL
   */
  public KafkaSecurity {
    protocol =
        protocol == null || protocol.isBlank() ? "PLAINTEXT" : protocol.toUpperCase(Locale.ROOT);
    if (!PROTOCOLS.contains(protocol)) {
      throw new IllegalArgumentException(
          "kafka security protocol must be one of " + PROTOCOLS + ": " + protocol);
    }
    boolean tls = protocol.endsWith("SSL");
    boolean sasl = protocol.startsWith("SASL");
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new IllegalArgumentException("kafka tls-cert and tls-key go together");
    }
    if (!tls && (tlsCa != null || tlsCert != null)) {
      throw new IllegalArgumentException(
          "kafka TLS files are given but security protocol " + protocol + " has no TLS");
    }
    saslMechanism = saslMechanism == null || saslMechanism.isBlank() ? null : saslMechanism;
    if (sasl) {
      if (saslMechanism == null || !MECHANISMS.contains(saslMechanism.toUpperCase(Locale.ROOT))) {
        throw new IllegalArgumentException(
            "kafka " + protocol + " needs a sasl-mechanism, one of " + MECHANISMS);
      }
      saslMechanism = saslMechanism.toUpperCase(Locale.ROOT);
      if (saslUsername == null || saslUsername.isBlank() || saslPasswordFile == null) {
        throw new IllegalArgumentException(
            "kafka " + protocol + " needs sasl-username and sasl-password-file");
      }
    } else if (saslMechanism != null || saslPasswordFile != null) {
      throw new IllegalArgumentException(
          "kafka SASL settings are given but security protocol " + protocol + " has no SASL");
    }
  }

  /**
   * The Kafka client properties (security.protocol, ssl.*, sasl.*), reading the PEM and password
   * files now.
   *
   * @throws IOException if a file cannot be read
   */
  public Map<String, Object> clientProperties() throws IOException {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
    if (tlsCa != null) {
      p.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
      p.put(SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG, read(tlsCa));
    }
    if (tlsCert != null) {
      p.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
      p.put(SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG, read(tlsCert));
      p.put(SslConfigs.SSL_KEYSTORE_KEY_CONFIG, read(tlsKey));
    }
    if (saslMechanism != null) {
      p.put(SaslConfigs.SASL_MECHANISM, saslMechanism);
      String module =
          saslMechanism.equals("PLAIN")
              ? "org.apache.kafka.common.security.plain.PlainLoginModule"
              : "org.apache.kafka.common.security.scram.ScramLoginModule";
      p.put(
          SaslConfigs.SASL_JAAS_CONFIG,
          module
              + " required username=\""
              + jaasQuoted(saslUsername)
              + "\" password=\""
              + jaasQuoted(read(saslPasswordFile).strip())
              + "\";");
    }
    return p;
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  /** A value inside a JAAS double-quoted string. */
  static String jaasQuoted(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
