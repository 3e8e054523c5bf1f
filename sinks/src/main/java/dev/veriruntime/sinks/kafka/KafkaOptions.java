package dev.veriruntime.sinks.kafka;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link KafkaSink}.
 *
 * @param bootstrap bootstrap servers, {@code host:port[,host:port...]}
 * @param topic where events go (key: host, value: the event's JSON)
 * @param heartbeatTopic where {@link KafkaHeartbeat}s go; blank: no heartbeats
 * @param heartbeatInterval time between heartbeats
 * @param security TLS and SASL
 * @param capacity bound on pending events (queued in the sink plus handed to the producer)
 * @param deliveryTimeout how long the producer keeps retrying one event (a broker outage shorter
 *     than this loses nothing that was accepted); then the event counts as failed
 * @param requestTimeout bound on one request to a broker
 * @param maxBlock bound on the producer's own waits on the drain thread (metadata, buffer memory)
 */
public record KafkaOptions(
    String bootstrap,
    String topic,
    String heartbeatTopic,
    Duration heartbeatInterval,
    KafkaSecurity security,
    int capacity,
    Duration deliveryTimeout,
    Duration requestTimeout,
    Duration maxBlock) {

  /** The heartbeat topic's name for an event topic: {@code TOPIC-heartbeat}. */
  public static String heartbeatTopicOf(String topic) {
    return topic + "-heartbeat";
  }

  public KafkaOptions {
    if (bootstrap == null || bootstrap.isBlank()) {
      throw new IllegalArgumentException("kafka bootstrap servers are empty");
    }
    if (topic == null || topic.isBlank()) {
      throw new IllegalArgumentException("kafka topic is empty");
    }
    heartbeatTopic = heartbeatTopic == null ? "" : heartbeatTopic;
    Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
    Objects.requireNonNull(security, "security");
    Objects.requireNonNull(deliveryTimeout, "deliveryTimeout");
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    Objects.requireNonNull(maxBlock, "maxBlock");
    if (capacity < 1) {
      throw new IllegalArgumentException("kafka capacity must be >= 1");
    }
    if (!heartbeatTopic.isBlank() && heartbeatInterval.toSeconds() < 1) {
      throw new IllegalArgumentException("kafka heartbeat interval must be at least 1 s");
    }
    // The producer refuses a delivery timeout below linger + request timeout.
    if (deliveryTimeout.compareTo(requestTimeout.plus(KafkaSink.LINGER)) < 0) {
      throw new IllegalArgumentException(
          "kafka delivery timeout must be at least the request timeout + "
              + KafkaSink.LINGER.toMillis()
              + " ms");
    }
  }

  /**
   * Defaults: heartbeats every 30 s to {@code TOPIC-heartbeat}, plaintext, 10,000 pending events, 2
   * min delivery timeout, 30 s request timeout, 2 s producer block bound.
   */
  public static KafkaOptions defaults(String bootstrap, String topic) {
    return new KafkaOptions(
        bootstrap,
        topic,
        heartbeatTopicOf(topic),
        Duration.ofSeconds(30),
        KafkaSecurity.PLAINTEXT,
        10_000,
        Duration.ofMinutes(2),
        Duration.ofSeconds(30),
        Duration.ofSeconds(2));
  }

  public KafkaOptions withCapacity(int newCapacity) {
    return new KafkaOptions(
        bootstrap,
        topic,
        heartbeatTopic,
        heartbeatInterval,
        security,
        newCapacity,
        deliveryTimeout,
        requestTimeout,
        maxBlock);
  }

  public KafkaOptions withSecurity(KafkaSecurity newSecurity) {
    return new KafkaOptions(
        bootstrap,
        topic,
        heartbeatTopic,
        heartbeatInterval,
        newSecurity,
        capacity,
        deliveryTimeout,
        requestTimeout,
        maxBlock);
  }

  /** Heartbeats to {@code topic} every {@code interval}; a blank topic turns them off. */
  public KafkaOptions withHeartbeats(String newTopic, Duration interval) {
    return new KafkaOptions(
        bootstrap,
        topic,
        newTopic,
        interval,
        security,
        capacity,
        deliveryTimeout,
        requestTimeout,
        maxBlock);
  }

  public KafkaOptions withTimeouts(Duration delivery, Duration request) {
    return new KafkaOptions(
        bootstrap,
        topic,
        heartbeatTopic,
        heartbeatInterval,
        security,
        capacity,
        delivery,
        request,
        maxBlock);
  }
}
