package dev.veriruntime.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads what a topic held from a point in time up to its end as of the start of the read, with a
 * plain consumer: no consumer group, nothing committed, nothing created, so running {@code fleet
 * summary} changes nothing on the cluster. Records come partition by partition, each in offset
 * order (the Kafka sink keys by host, so one host's records are in one partition, in the order it
 * sent them). Not thread-safe; closes its consumer.
 */
final class FleetTopicReader implements AutoCloseable {
  private final KafkaConsumer<String, String> consumer;
  private final Duration timeout;

  /** The broker cannot be reached, or stopped answering, within the timeout. */
  static final class Unreachable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unreachable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The broker refused the client: its credentials or certificate, or what it may read. */
  static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Refused(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The topic does not exist. */
  static final class NoSuchTopic extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NoSuchTopic(String topic) {
      super("topic " + topic + " does not exist");
    }
  }

  /**
   * @param bootstrap bootstrap servers
   * @param client extra client properties (security.protocol, ssl.*, sasl.*)
   * @param timeout bound on each wait for the broker
   */
  FleetTopicReader(String bootstrap, Map<String, Object> client, Duration timeout) {
    Map<String, Object> c = new HashMap<>(client);
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "veriruntime-fleet-summary");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    c.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    this.consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
    this.timeout = timeout;
  }

  /**
   * The records of {@code topic} written at or after {@code since} (by record timestamp).
   *
   * @throws Unreachable if the broker does not answer within the timeout
   * @throws NoSuchTopic if the topic does not exist
   */
  List<ConsumerRecord<String, String>> read(String topic, Instant since) {
    try {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
      if (infos == null || infos.isEmpty()) {
        throw new NoSuchTopic(topic);
      }
      List<TopicPartition> partitions =
          infos.stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .sorted((a, b) -> Integer.compare(a.partition(), b.partition()))
              .toList();
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
      Map<TopicPartition, Long> query = new HashMap<>();
      partitions.forEach(tp -> query.put(tp, since.toEpochMilli()));
      Map<TopicPartition, OffsetAndTimestamp> start = consumer.offsetsForTimes(query, timeout);
      List<ConsumerRecord<String, String>> out = new ArrayList<>();
      for (TopicPartition tp : partitions) {
        OffsetAndTimestamp from = start.get(tp);
        long last = end.get(tp);
        if (from == null || from.offset() >= last) {
          continue; // nothing written since
        }
        consumer.assign(List.of(tp));
        consumer.seek(tp, from.offset());
        readTo(tp, last, out);
      }
      return out;
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      throw new Unreachable("no answer from the broker within " + timeout.toSeconds() + " s", e);
    } catch (AuthenticationException | AuthorizationException e) {
      throw new Refused(e.getMessage(), e);
    } catch (KafkaException e) {
      throw new Unreachable(e.getMessage(), e);
    }
  }

  private void readTo(TopicPartition tp, long last, List<ConsumerRecord<String, String>> out) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (consumer.position(tp, timeout) < last) {
      boolean progress = false;
      for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
        progress = true;
        if (r.offset() < last) {
          out.add(r);
        }
      }
      if (progress) {
        deadline = System.nanoTime() + timeout.toNanos();
      } else if (System.nanoTime() > deadline) {
        throw new Unreachable(
            "the broker stopped answering while "
                + tp
                + " was read (at offset "
                + consumer.position(tp, timeout)
                + " of "
                + last
                + ")",
            null);
      }
    }
  }

  @Override
  public void close() {
    consumer.close(); // no group, nothing to commit: returns at once
  }
}
