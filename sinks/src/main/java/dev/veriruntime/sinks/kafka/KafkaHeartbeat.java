package dev.veriruntime.sinks.kafka;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.time.Instant;
import java.util.Objects;

/**
 * The record a {@link KafkaSink} writes to its heartbeat topic every {@code intervalSeconds} (key:
 * the host), so that a fleet consumer can tell a quiet host (heartbeats, no events) from one that
 * stopped sending (no heartbeats). Not a security event: it never goes to the event topic and never
 * reaches a person. A sink that closes normally sends a last one with {@code stopping}.
 *
 * <pre>{@code
 * {"host":"build-7","time":"2026-12-03T15:40:00Z","intervalSeconds":30,"stopping":false,
 *  "accepted":12,"delivered":12,"dropped":0,"failed":0}
 * }</pre>
 *
 * @param host the sending host (also the record key)
 * @param time when the heartbeat was made, by the host's clock
 * @param intervalSeconds the period of this host's heartbeats
 * @param stopping the agent is shutting down normally: silence after this one is expected
 * @param accepted events this host's Kafka sink accepted since it started
 * @param delivered events the brokers acknowledged since it started
 * @param dropped events refused because the sink's buffer was full
 * @param failed accepted events given up on (delivery timeout)
 */
@JsonPropertyOrder({
  "host",
  "time",
  "intervalSeconds",
  "stopping",
  "accepted",
  "delivered",
  "dropped",
  "failed"
})
public record KafkaHeartbeat(
    String host,
    Instant time,
    long intervalSeconds,
    boolean stopping,
    long accepted,
    long delivered,
    long dropped,
    long failed) {
  public KafkaHeartbeat {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(time, "time");
  }
}
