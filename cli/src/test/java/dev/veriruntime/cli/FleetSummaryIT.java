package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.SecurityEvent.Incident;
import dev.veriruntime.sinks.SecurityEvent.IncidentState;
import dev.veriruntime.sinks.kafka.KafkaOptions;
import dev.veriruntime.sinks.kafka.KafkaSink;
import dev.veriruntime.sinks.testing.KafkaTestBroker;
import dev.veriruntime.sinks.testing.KafkaTopicContents;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code fleet summary} against a real broker ({@link KafkaTestBroker}: a KRaft node in a child JVM
 * on 127.0.0.1, no root; *IT because it starts a broker). Simulated hosts write through the real
 * Kafka sink: host-a ran two unknown executables, host-b has one open incident and one resolved,
 * host-c went silent ten minutes ago, host-d's agent stopped; one foreign record sits on the topic.
 */
class FleetSummaryIT {
  private static final String TOPIC = "fleet";
  private static final String X = "aa".repeat(32);
  private static final String Y = "bb".repeat(32);
  private static KafkaTestBroker broker;
  private static final List<KafkaSink> sinks = new ArrayList<>();
  private static String openIncident;

  @BeforeAll
  static void writeTheFleet() throws Exception {
    broker = KafkaTestBroker.start("fleet");
    broker.createTopic(TOPIC, 3);
    broker.createTopic(KafkaOptions.heartbeatTopicOf(TOPIC), 3);
    Instant now = Instant.now();

    KafkaSink a = sink("host-a", Clock.systemUTC());
    a.emit(unknown("host-a", now.minusSeconds(300), X, "/tmp/x", 1));
    a.emit(unknown("host-a", now.minusSeconds(200), X, "/home/u/x", 4));
    a.emit(unknown("host-a", now.minusSeconds(100), Y, "/tmp/y", 1));

    KafkaSink b = sink("host-b", Clock.systemUTC());
    SecurityEvent opened = drift("host-b", now.minusSeconds(120), null, IncidentState.OPENED);
    openIncident = opened.id();
    b.emit(opened);
    b.emit(drift("host-b", now.minusSeconds(60), opened, IncidentState.REMINDER));
    SecurityEvent closedOne = drift("host-b", now.minusSeconds(90), null, IncidentState.OPENED);
    b.emit(closedOne);
    b.emit(drift("host-b", now.minusSeconds(30), closedOne, IncidentState.RESOLVED));

    // host-c's clock says ten minutes ago: its last heartbeat and event are that old.
    KafkaSink c = sink("host-c", Clock.fixed(now.minus(Duration.ofMinutes(10)), ZoneOffset.UTC));
    c.emit(
        SecurityEvent.builder(EventType.VERIFICATION_DEGRADED, now.minus(Duration.ofMinutes(10)))
            .host("host-c")
            .reason("sink journal dropped 3 events")
            .build());

    KafkaSink d = sink("host-d", Clock.systemUTC());
    for (KafkaSink s : sinks) {
      s.flush().block(Duration.ofSeconds(30));
    }
    awaitHeartbeats(4);
    d.close(); // its last heartbeat says it is stopping
    awaitHeartbeats(5);

    try (KafkaProducer<String, String> foreign =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap()),
            new StringSerializer(),
            new StringSerializer())) {
      foreign.send(new ProducerRecord<>(TOPIC, "other", "not an event")).get();
    }
  }

  @AfterAll
  static void stop() {
    sinks.forEach(KafkaSink::close);
    if (broker != null) {
      broker.close();
    }
  }

  private static KafkaSink sink(String host, Clock clock) throws Exception {
    KafkaSink s =
        KafkaSink.open(KafkaOptions.defaults(broker.bootstrap(), TOPIC), host, clock, null);
    sinks.add(s);
    return s;
  }

  /** Heartbeats are sent beside the events, not through flush: wait until they are on the topic. */
  private static void awaitHeartbeats(int n) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (KafkaTopicContents.read(broker.bootstrap(), KafkaOptions.heartbeatTopicOf(TOPIC)).size()
        < n) {
      assertThat(System.nanoTime()).as("%d heartbeats within 60 s", n).isLessThan(deadline);
    }
  }

  private static SecurityEvent unknown(
      String host, Instant t, String sha, String path, long count) {
    return SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, t)
        .host(host)
        .pid(2000)
        .exe(path, 2049, 77, sha)
        .reason("no trusted reference for sha256 " + sha.substring(0, 8))
        .count(count)
        .build();
  }

  private static SecurityEvent drift(
      String host, Instant t, SecurityEvent first, IncidentState state) {
    SecurityEvent e =
        SecurityEvent.builder(EventType.RUNTIME_DRIFT, t)
            .host(host)
            .pid(first == null ? (int) (t.getEpochSecond() % 30_000) : first.pid())
            .exe("/usr/sbin/sshd", 2049, 99, "cc".repeat(32))
            .reason("code in memory differs from the file")
            .build();
    SecurityEvent opening = first == null ? e : first;
    return e.withIncident(
        new Incident(
            opening.id(),
            state,
            opening.time(),
            2,
            1,
            state == IncidentState.RESOLVED ? null : t.plusSeconds(60),
            state == IncidentState.RESOLVED ? "process exited" : null));
  }

  @Test
  void answersTheFleetQuestionsAsJson() {
    CliRun run =
        CliRun.of("fleet", "summary", "--kafka", broker.bootstrap(), "--topic", TOPIC, "--json");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.FINDINGS);
    JsonNode j = run.json();

    assertThat(j.get("hosts"))
        .extracting(h -> h.get("host").asText())
        .containsExactly("host-a", "host-b", "host-c", "host-d");
    JsonNode unknown = j.get("unknownDigests");
    assertThat(unknown).hasSize(2);
    assertThat(unknown.get(0).get("host").asText()).isEqualTo("host-a");
    assertThat(unknown.get(0).get("sha256").asText()).isEqualTo(X);
    assertThat(unknown.get(0).get("runs").asLong()).isEqualTo(5);
    assertThat(unknown.get(0).get("events").asLong()).isEqualTo(2);
    assertThat(unknown.get(0).get("paths"))
        .extracting(JsonNode::asText)
        .containsExactly("/home/u/x", "/tmp/x");
    assertThat(unknown.get(1).get("sha256").asText()).isEqualTo(Y);
    assertThat(unknown.get(1).get("runs").asLong()).isEqualTo(1);

    JsonNode open = j.get("openIncidents");
    assertThat(open).hasSize(1);
    assertThat(open.get(0).get("host").asText()).isEqualTo("host-b");
    assertThat(open.get(0).get("id").asText()).isEqualTo(openIncident);
    assertThat(open.get(0).get("lastState").asText()).isEqualTo("REMINDER");
    assertThat(open.get(0).get("path").asText()).isEqualTo("/usr/sbin/sshd");

    JsonNode silent = j.get("silentHosts");
    assertThat(silent).extracting(h -> h.get("host").asText()).containsExactly("host-c", "host-d");
    assertThat(silent.get(0).get("silentSeconds").asLong()).isGreaterThanOrEqualTo(590);
    assertThat(silent.get(0).get("thresholdSeconds").asLong()).isEqualTo(90);
    assertThat(silent.get(0).get("stopping").asBoolean()).isFalse();
    assertThat(silent.get(1).get("stopping").asBoolean()).isTrue();
    assertThat(j.get("unreadableRecords").asLong()).isEqualTo(1);
  }

  @Test
  void printsTheSameAnswersForPeople() {
    CliRun run = CliRun.of("fleet", "summary", "--kafka", broker.bootstrap(), "--topic", TOPIC);
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(run.out())
        .contains("4 hosts, 2 unknown executables, 1 open incidents, 2 silent hosts")
        .contains("host-a")
        .contains(X)
        .contains("incident " + openIncident)
        .contains("its agent said it was stopping")
        .contains("1 records were not VeriRuntime events or heartbeats");
  }

  @Test
  void aWindowAfterEverythingHasNothingToReport() {
    // --since 1s: nothing was written in the last second (the fleet was written before the tests).
    CliRun run =
        CliRun.of(
            "fleet",
            "summary",
            "--kafka",
            broker.bootstrap(),
            "--topic",
            TOPIC,
            "--since",
            "1s",
            "--json");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.json().get("hosts")).isEmpty();
  }

  @Test
  void aMissingTopicIsOneLineAndExit42() {
    CliRun.of("fleet", "summary", "--kafka", broker.bootstrap(), "--topic", "no-such-topic")
        .refused(ExitCodes.NOT_FOUND);
  }
}
