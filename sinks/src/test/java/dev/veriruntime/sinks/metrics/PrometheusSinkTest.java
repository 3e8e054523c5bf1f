package dev.veriruntime.sinks.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.testing.RecordingSink;
import dev.veriruntime.sinks.testing.SinkContractTest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Scheduler;
import reactor.netty.http.client.HttpClient;

class PrometheusSinkTest extends SinkContractTest {
  private PrometheusSink sink;

  @Override
  protected Sink newSink(int capacity, Scheduler scheduler) {
    sink = PrometheusSink.start("127.0.0.1", 0, capacity, scheduler);
    return sink;
  }

  /** Counters carry no ids: the contract checks counts only. */
  @Override
  protected Optional<List<String>> deliveredIds() {
    return Optional.empty();
  }

  /** The registry is the downstream; read it directly (after close the endpoint is gone). */
  @Override
  protected long deliveredCount() {
    return (long)
        sink.registry().find("veriruntime.events").counters().stream()
            .mapToDouble(c -> c.count())
            .sum();
  }

  static String scrape(int port) {
    return HttpClient.create()
        .get()
        .uri("http://127.0.0.1:" + port + "/metrics")
        .responseSingle(
            (res, body) -> {
              assertThat(res.status().code()).isEqualTo(200);
              assertThat(res.responseHeaders().get("Content-Type"))
                  .startsWith("text/plain; version=0.0.4");
              return body.asString();
            })
        .block(Duration.ofSeconds(10));
  }

  /** Sum of all samples of {@code metric} whose labels contain {@code labels}. */
  static double sum(String exposition, String metric, String... labels) {
    double total = 0;
    Matcher m = Pattern.compile("(?m)^" + metric + "\\{([^}]*)\\} (\\S+)$").matcher(exposition);
    while (m.find()) {
      boolean all = true;
      for (String l : labels) {
        all &= m.group(1).contains(l);
      }
      if (all) {
        total += Double.parseDouble(m.group(2));
      }
    }
    return total;
  }

  @Test
  void scrapeShowsEventsOccurrencesAndSinkCounters() {
    try (PrometheusSink p = PrometheusSink.start("127.0.0.1", 0, 64, null);
        RecordingSink other = new RecordingSink("webhook", 1, null)) {
      SinkMetrics.bind(other, p.registry());
      Instant t = Instant.parse("2026-11-23T08:00:00Z");
      p.emit(
          SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, t).reason("a").count(10_000).build());
      p.emit(SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, t).reason("b").build());
      p.emit(SecurityEvent.builder(EventType.RUNTIME_DRIFT, t.plusSeconds(5)).reason("c").build());
      p.flush().block(Duration.ofSeconds(10));

      other.emit(SecurityEvent.builder(EventType.VERIFY_FAILED, t).reason("x").build());
      other.emit(SecurityEvent.builder(EventType.VERIFY_FAILED, t).reason("y").build()); // may drop
      other.flush().block(Duration.ofSeconds(10));

      String text = scrape(p.port());
      assertThat(sum(text, "veriruntime_events_total", "type=\"UNKNOWN_EXECUTION\"")).isEqualTo(2);
      assertThat(sum(text, "veriruntime_events_total", "type=\"RUNTIME_DRIFT\"")).isEqualTo(1);
      assertThat(sum(text, "veriruntime_event_occurrences_total", "type=\"UNKNOWN_EXECUTION\""))
          .isEqualTo(10_001);
      assertThat(sum(text, "veriruntime_event_last_time", "type=\"RUNTIME_DRIFT\""))
          .isEqualTo(t.getEpochSecond() + 5);
      assertThat(sum(text, "veriruntime_sink_delivered_total", "sink=\"prometheus\"")).isEqualTo(3);
      double webhookDropped = sum(text, "veriruntime_sink_dropped_total", "sink=\"webhook\"");
      double webhookAccepted = sum(text, "veriruntime_sink_accepted_total", "sink=\"webhook\"");
      assertThat(webhookAccepted + webhookDropped).isEqualTo(2);
      assertThat(webhookDropped).isEqualTo(other.stats().dropped());
      assertThat(text).contains("veriruntime_sink_pending{sink=\"webhook\"}");
    }
  }

  @Test
  void unknownPathsAre404() {
    try (PrometheusSink p = PrometheusSink.start("127.0.0.1", 0, 8, null)) {
      int code =
          HttpClient.create()
              .get()
              .uri("http://127.0.0.1:" + p.port() + "/nope")
              .response()
              .map(r -> r.status().code())
              .block(Duration.ofSeconds(10));
      assertThat(code).isEqualTo(404);
    }
  }
}
