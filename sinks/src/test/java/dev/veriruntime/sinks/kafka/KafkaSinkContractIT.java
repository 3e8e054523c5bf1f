package dev.veriruntime.sinks.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.testing.KafkaTestBroker;
import dev.veriruntime.sinks.testing.KafkaTopicContents;
import dev.veriruntime.sinks.testing.SinkContractTest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Scheduler;

/**
 * The shared sink contract against a real Kafka broker ({@link KafkaTestBroker}: a KRaft node in a
 * child JVM on 127.0.0.1; no root needed, named *IT because it starts a broker). Each test writes
 * to its own topic, and the downstream's view is that topic read back to its end offsets. Failing
 * downstream = the broker stopped; it is started again after that test.
 */
class KafkaSinkContractIT extends SinkContractTest {
  private static final AtomicInteger TOPICS = new AtomicInteger();
  private static KafkaTestBroker broker;
  private String topic;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = KafkaTestBroker.start("contract");
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @AfterEach
  void restartBrokerIfStopped() throws Exception {
    closeSinks();
    broker.start();
  }

  @Override
  protected Sink newSink(int capacity, Scheduler scheduler) throws Exception {
    topic = "contract-" + TOPICS.incrementAndGet();
    broker.createTopic(topic, 3);
    KafkaOptions options =
        KafkaOptions.defaults(broker.bootstrap(), topic)
            .withCapacity(capacity)
            .withHeartbeats("", Duration.ofSeconds(30))
            // Failures must be counted within the contract's 10 s wait.
            .withTimeouts(Duration.ofSeconds(4), Duration.ofSeconds(2));
    return KafkaSink.open(options, "contract-host", Clock.systemUTC(), scheduler);
  }

  @Override
  protected Optional<List<String>> deliveredIds() {
    return Optional.of(
        KafkaTopicContents.read(broker.bootstrap(), topic).stream()
            .map(r -> EventJson.fromJson(r.value()).id())
            .toList());
  }

  @Override
  protected void breakDownstream() {
    broker.stop();
  }

  @Test
  void recordIsKeyedByHostWithTheConsoleJsonAndTypeHeaders() throws Exception {
    Sink sink = newSink(8, null);
    try {
      SecurityEvent e = event(7);
      assertThat(sink.emit(e)).isTrue();
      sink.flush().block(Duration.ofSeconds(10));
      List<ConsumerRecord<String, String>> records =
          KafkaTopicContents.read(broker.bootstrap(), topic);
      assertThat(records).hasSize(1);
      ConsumerRecord<String, String> r = records.get(0);
      assertThat(r.key()).isEqualTo("contract-host");
      assertThat(r.value()).isEqualTo(EventJson.toJson(e));
      assertThat(
              new String(
                  r.headers().lastHeader(KafkaSink.TYPE_HEADER).value(), StandardCharsets.UTF_8))
          .isEqualTo("UNKNOWN_EXECUTION");
      assertThat(
              new String(
                  r.headers().lastHeader(KafkaSink.SCHEMA_HEADER).value(), StandardCharsets.UTF_8))
          .isEqualTo(KafkaSink.SCHEMA);
    } finally {
      sink.close();
    }
  }
}
