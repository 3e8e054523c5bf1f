package dev.veriruntime.sinks.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Everything a topic holds now, read with a plain consumer from the beginning up to the end offsets
 * taken at the start: exact, no waiting for "nothing more arrives". Records come partition by
 * partition, each partition in offset order.
 */
public final class KafkaTopicContents {
  private KafkaTopicContents() {}

  public static List<ConsumerRecord<String, String>> read(String bootstrap, String topic) {
    Map<String, Object> config =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
            ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    List<ConsumerRecord<String, String>> out = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .sorted((a, b) -> Integer.compare(a.partition(), b.partition()))
              .toList();
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(10));
      for (TopicPartition tp : partitions) {
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (consumer.position(tp, Duration.ofSeconds(10)) < end.get(tp)) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("could not read " + tp + " to offset " + end.get(tp));
          }
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
            if (r.offset() < end.get(tp)) {
              out.add(r);
            }
          }
        }
      }
    }
    return out;
  }
}
