package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.SecurityEvent.Incident;
import dev.veriruntime.sinks.SecurityEvent.IncidentState;
import dev.veriruntime.sinks.kafka.KafkaHeartbeat;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fleet answers computed from lists (no broker): what counts as a run, what is silent. */
class FleetSummaryTest {
  private static final Instant NOW = Instant.parse("2026-12-03T16:00:00Z");
  private static final String SHA = "ab".repeat(32);

  private static SecurityEvent unknown(Instant t, long count) {
    return SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, t)
        .host("h1")
        .pid(42)
        .exe("/tmp/x", 1, 2, SHA)
        .reason("unknown")
        .count(count)
        .build();
  }

  private static SecurityEvent in(SecurityEvent e, String incidentId, IncidentState state) {
    return e.withIncident(new Incident(incidentId, state, e.time(), 1, 1, null, null));
  }

  private static KafkaHeartbeat beat(String host, Instant t, boolean stopping) {
    return new KafkaHeartbeat(host, t, 30, stopping, 0, 0, 0, 0);
  }

  @Test
  void aFirstReportResolvedAtOnceIsARunAndAReminderIsNot() {
    SecurityEvent first = unknown(NOW.minusSeconds(100), 1);
    SecurityEvent resolvedAtOnce =
        first.withIncident(
            new Incident(first.id(), IncidentState.RESOLVED, first.time(), 1, 1, null, "exited"));
    SecurityEvent aggregate = unknown(NOW.minusSeconds(90), 7);
    SecurityEvent opened = unknown(NOW.minusSeconds(80), 1);
    SecurityEvent openedIn = in(opened, opened.id(), IncidentState.OPENED);
    SecurityEvent reminder =
        in(unknown(NOW.minusSeconds(20), 1), opened.id(), IncidentState.REMINDER);

    FleetSummary s =
        FleetSummary.of(
            "t",
            NOW.minusSeconds(3600),
            NOW,
            List.of(resolvedAtOnce, aggregate, openedIn, reminder),
            List.of(beat("h1", NOW.minusSeconds(10), false)),
            null,
            0);

    assertThat(s.unknownDigests())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.runs()).isEqualTo(1 + 7 + 1);
              assertThat(d.events()).isEqualTo(4);
            });
    assertThat(s.openIncidents())
        .singleElement()
        .satisfies(
            i -> {
              assertThat(i.id()).isEqualTo(opened.id());
              assertThat(i.lastState()).isEqualTo("REMINDER");
            });
    assertThat(s.silentHosts()).isEmpty();
    assertThat(s.hasFindings()).isTrue();
  }

  @Test
  void silenceIsThreeHeartbeatIntervalsOrTheGivenThreshold() {
    List<KafkaHeartbeat> beats =
        List.of(
            beat("quiet", NOW.minusSeconds(80), false),
            beat("gone", NOW.minusSeconds(100), false),
            beat("stopped", NOW.minusSeconds(5), true));
    FleetSummary byInterval =
        FleetSummary.of("t", NOW.minusSeconds(3600), NOW, List.of(), beats, null, 0);
    assertThat(byInterval.silentHosts())
        .extracting(FleetSummary.SilentHost::host)
        .containsExactly("gone", "stopped");
    assertThat(byInterval.silentHosts().get(0).silentSeconds()).isEqualTo(100);
    assertThat(byInterval.silentHosts().get(1).stopping()).isTrue();

    FleetSummary fixed =
        FleetSummary.of(
            "t", NOW.minusSeconds(3600), NOW, List.of(), beats, Duration.ofSeconds(60), 0);
    assertThat(fixed.silentHosts())
        .extracting(FleetSummary.SilentHost::host)
        .containsExactly("gone", "quiet", "stopped");
  }

  @Test
  void nothingInTheWindowIsNothingToReport() {
    FleetSummary s = FleetSummary.of("t", NOW.minusSeconds(60), NOW, List.of(), List.of(), null, 0);
    assertThat(s.hosts()).isEmpty();
    assertThat(s.hasFindings()).isFalse();
  }
}
