package dev.veriruntime.sinks.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.SinkStats;
import dev.veriruntime.sinks.testing.KafkaTestBroker;
import dev.veriruntime.sinks.testing.KafkaTopicContents;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A broker outage under a steady event rate, against a real broker ({@link KafkaTestBroker}; no
 * root, named *IT because it starts a broker and runs for about a minute): three hosts, each with
 * its own sink as in a fleet, emit one event every 20 ms; the broker is stopped for 10 s (500 ticks
 * of the emitter) and started again. Afterwards every event is accounted for exactly once:
 * delivered (on the topic, once, in its host's order) or counted by the sink (dropped when its
 * buffer was full, failed if given up on); none is lost silently and none is written twice.
 */
class KafkaBrokerOutageIT {
  private static final List<String> HOSTS = List.of("host-a", "host-b", "host-c");
  private static final long TICK_MILLIS = 20;
  private static final int OUTAGE_TICKS = 500; // 10 s
  private static final int SETTLE_TICKS = 150; // 3 s before and after
  private static final int CAPACITY = 300;

  private KafkaTestBroker broker;
  private final Map<String, KafkaSink> sinks = new LinkedHashMap<>();
  private final ScheduledExecutorService emitter = Executors.newSingleThreadScheduledExecutor();

  @BeforeEach
  void start() throws Exception {
    broker = KafkaTestBroker.start("outage");
    broker.createTopic("fleet-events", 3);
    for (String host : HOSTS) {
      sinks.put(
          host,
          KafkaSink.open(
              KafkaOptions.defaults(broker.bootstrap(), "fleet-events")
                  .withCapacity(CAPACITY)
                  .withHeartbeats("", Duration.ofSeconds(30)),
              host,
              Clock.systemUTC(),
              null));
    }
  }

  @AfterEach
  void stop() {
    emitter.shutdownNow();
    sinks.values().forEach(KafkaSink::close);
    if (broker != null) {
      broker.close();
    }
  }

  /** What the test sent for one host: every emit, in order, and its answer. */
  private static final class Sent {
    final List<String> accepted = new ArrayList<>();
    final Set<String> acceptedDuringOutage = new HashSet<>();
    long refused;
    long total;
  }

  @Test
  void everyEventIsDeliveredOnceInOrderOrCounted() throws Exception {
    long started = System.nanoTime();
    Map<String, Sent> sent = new LinkedHashMap<>();
    HOSTS.forEach(h -> sent.put(h, new Sent()));
    AtomicReference<CountDownLatch> ticksLeft =
        new AtomicReference<>(new CountDownLatch(SETTLE_TICKS));
    AtomicReference<Boolean> outage = new AtomicReference<>(false);
    long[] seq = {0};
    emitter.scheduleAtFixedRate(
        () -> {
          long i = seq[0]++;
          for (String host : HOSTS) {
            SecurityEvent e =
                SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, Instant.now())
                    .host(host)
                    .pid(1000 + (int) (i % 30_000))
                    .exe("/opt/app/bin/tool-" + i, 2049, 10_000 + i, "cd".repeat(32))
                    .reason("outage test event " + i)
                    .build();
            Sent s = sent.get(host);
            synchronized (s) {
              s.total++;
              if (sinks.get(host).emit(e)) {
                s.accepted.add(e.id());
                if (outage.get()) {
                  s.acceptedDuringOutage.add(e.id());
                }
              } else {
                s.refused++;
              }
            }
          }
          ticksLeft.get().countDown();
        },
        0,
        TICK_MILLIS,
        TimeUnit.MILLISECONDS);

    assertThat(ticksLeft.get().await(60, TimeUnit.SECONDS)).isTrue();
    // The outage: killed, then 500 more ticks of the emitter (10 s at the steady rate).
    outage.set(true);
    long down = System.nanoTime();
    broker.stop();
    ticksLeft.set(new CountDownLatch(OUTAGE_TICKS));
    assertThat(ticksLeft.get().await(60, TimeUnit.SECONDS)).isTrue();
    outage.set(false);
    long stoppedMillis = (System.nanoTime() - down) / 1_000_000;
    broker.start();
    long outageMillis = (System.nanoTime() - down) / 1_000_000;
    ticksLeft.set(new CountDownLatch(SETTLE_TICKS));
    assertThat(ticksLeft.get().await(60, TimeUnit.SECONDS)).isTrue();
    emitter.shutdown();
    assertThat(emitter.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    for (KafkaSink sink : sinks.values()) {
      sink.flush().block(Duration.ofSeconds(150));
    }

    Map<String, List<String>> onTopic = new LinkedHashMap<>();
    HOSTS.forEach(h -> onTopic.put(h, new ArrayList<>()));
    for (ConsumerRecord<String, String> r :
        KafkaTopicContents.read(broker.bootstrap(), "fleet-events")) {
      SecurityEvent e = EventJson.fromJson(r.value());
      assertThat(r.key()).isEqualTo(e.host());
      onTopic.get(r.key()).add(e.id());
    }

    long totalSent = 0;
    long totalDelivered = 0;
    long totalDropped = 0;
    long totalFailed = 0;
    long totalOnTopic = 0;
    long totalDuringOutage = 0;
    for (String host : HOSTS) {
      Sent s = sent.get(host);
      SinkStats st = sinks.get(host).stats();
      List<String> got = onTopic.get(host);
      // Counted on both sides: the sink's counters match what the test saw and what the topic has.
      assertThat(st.accepted() + st.dropped()).isEqualTo(s.total);
      assertThat(st.dropped()).isEqualTo(s.refused);
      assertThat(st.accepted()).isEqualTo(s.accepted.size());
      assertThat(st.pending()).isZero();
      assertThat(st.delivered() + st.failed()).isEqualTo(st.accepted());
      assertThat(got).doesNotHaveDuplicates().hasSize((int) st.delivered());
      // In order: what arrived is the accepted sequence minus what failed, in the same order.
      List<String> acceptedAndArrived = new ArrayList<>(s.accepted);
      acceptedAndArrived.retainAll(new HashSet<>(got));
      assertThat(got).containsExactlyElementsOf(acceptedAndArrived);
      assertThat(s.accepted.size() - got.size()).isEqualTo(st.failed());
      // The outage overflowed the bound, and what the buffer held during it arrived afterwards.
      assertThat(st.dropped()).isPositive();
      assertThat(st.failed()).isZero();
      assertThat(s.acceptedDuringOutage).isNotEmpty();
      assertThat(got).containsAll(s.acceptedDuringOutage);
      totalSent += s.total;
      totalDelivered += st.delivered();
      totalDropped += st.dropped();
      totalFailed += st.failed();
      totalOnTopic += got.size();
      totalDuringOutage += s.acceptedDuringOutage.size();
    }
    assertThat(totalSent).isEqualTo(totalDelivered + totalDropped + totalFailed);
    System.out.printf(
        "kafka broker outage: %d hosts, one event per host every %d ms, broker killed for %d ms"
            + " and answering again after %d ms:"
            + " sent %d, delivered %d (on the topic %d, no duplicates), dropped %d (counted),"
            + " failed %d; accepted while the broker was away and delivered after: %d; test %d ms%n",
        HOSTS.size(),
        TICK_MILLIS,
        stoppedMillis,
        outageMillis,
        totalSent,
        totalDelivered,
        totalOnTopic,
        totalDropped,
        totalFailed,
        totalDuringOutage,
        (System.nanoTime() - started) / 1_000_000);
  }
}
