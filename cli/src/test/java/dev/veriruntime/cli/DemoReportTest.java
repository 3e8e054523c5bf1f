package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.cli.DemoReport.Alert;
import dev.veriruntime.cli.DemoReport.Outcome;
import dev.veriruntime.cli.DemoReport.Status;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The demo's text and JSON, from outcomes made by hand: no kernel, no processes. */
class DemoReportTest {
  private static final Alert UNKNOWN =
      new Alert(
          "UNKNOWN_EXECUTION",
          "exec of /tmp/d/unknown-true: no trusted reference for sha256 ab",
          4242,
          "/tmp/d/unknown-true",
          null,
          18);
  private static final Alert DRIFT =
      new Alert(
          "RUNTIME_DRIFT",
          "fileless execution: executed a memfd (/memfd:veriruntime-demo)",
          4243,
          "/memfd:veriruntime-demo",
          "MEMFD_EXECUTION",
          88);

  private static final Outcome SILENT =
      new Outcome(
          1,
          "trusted-binary",
          "trusted system binary",
          "no alert",
          Status.PASS,
          null,
          List.of(),
          "no alert about /usr/bin/true");
  private static final Outcome FOUND =
      new Outcome(
          2,
          "unknown-binary",
          "unknown binary",
          "UNKNOWN_EXECUTION",
          Status.PASS,
          UNKNOWN,
          List.of(UNKNOWN),
          "");
  private static final Outcome MISSED =
      new Outcome(
          3,
          "fileless-memfd",
          "fileless execution",
          "RUNTIME_DRIFT MEMFD_EXECUTION",
          Status.MISSING,
          null,
          List.of(),
          "no RUNTIME_DRIFT MEMFD_EXECUTION within 10 s");
  private static final Outcome SKIPPED =
      new Outcome(
          4,
          "ld-preload",
          "LD_PRELOAD library",
          "UNKNOWN_EXECUTION (mapping)",
          Status.SKIPPED,
          null,
          List.of(),
          "no C library found in /proc/self/maps to copy");

  @Test
  void skippedScenariosDoNotFailTheDemoButMissingAndUnexpectedOnesDo() {
    Outcome unexpected =
        new Outcome(
            1,
            "trusted-binary",
            "trusted system binary",
            "no alert",
            Status.UNEXPECTED,
            null,
            List.of(UNKNOWN),
            "1 alert(s) about a binary that should be trusted");

    assertThat(DemoReport.passed(List.of(SILENT, FOUND, SKIPPED))).isTrue();
    assertThat(DemoReport.passed(List.of(SILENT, FOUND, MISSED))).isFalse();
    assertThat(DemoReport.passed(List.of(unexpected, FOUND))).isFalse();
  }

  @Test
  void summaryHasOneAlignedRowPerScenarioAndTheTotals() {
    String text = DemoReport.summary(List.of(SILENT, FOUND, MISSED, SKIPPED), 4_850, 3, Map.of());
    List<String> lines = text.strip().lines().toList();

    assertThat(lines).hasSize(6);
    assertThat(lines.get(0))
        .startsWith("#  scenario")
        .contains("expected")
        .contains("result")
        .endsWith("latency");
    assertThat(lines.get(2))
        .startsWith("2  unknown binary")
        .contains(" UNKNOWN_EXECUTION ")
        .contains(" PASS ")
        .endsWith("18 ms");
    assertThat(lines.get(3)).contains(" MISSING ").endsWith("-");
    assertThat(lines.get(4)).contains(" SKIPPED ");
    // Every row's result column starts where the header's does.
    int column = lines.get(0).indexOf("result");
    assertThat(lines.subList(1, 5))
        .allSatisfy(l -> assertThat(l.substring(column)).matches("(PASS|MISSING|SKIPPED) .*"));
    assertThat(lines.get(5))
        .isEqualTo(
            "2 passed, 1 failed, 1 skipped in 4.9 s; 3 other alerts on this host not shown"
                + " (`veriruntime watch` shows all)");
  }

  @Test
  void summaryOmitsOtherAlertsWhenThereWereNone() {
    assertThat(DemoReport.summary(List.of(FOUND), 1_000, 0, Map.of()).strip())
        .endsWith("1 passed, 0 failed, 0 skipped in 1.0 s");
  }

  @Test
  void summaryNamesTheLossesTheAgentReported() {
    String text =
        DemoReport.summary(
            List.of(MISSED),
            1_000,
            1,
            new TreeMap<>(Map.of("kernel.exec", 3L, "stage.verify.queue", 1L)));

    assertThat(text.strip().lines().toList())
        .last()
        .isEqualTo(
            "the agent reported lost events meanwhile, which may explain a missing alert: {kernel.exec=3, stage.verify.queue=1}");
  }

  @Test
  void anArrivingAlertShowsTypeFindingPidPathLatencyAndReason() {
    assertThat(DemoReport.arrived(DRIFT).lines().toList())
        .containsExactly(
            "  alert:    RUNTIME_DRIFT (MEMFD_EXECUTION) pid 4243 /memfd:veriruntime-demo after 88 ms",
            "            fileless execution: executed a memfd (/memfd:veriruntime-demo)");
  }

  @Test
  void resultLineSaysWhatArrivedOrWhyNot() {
    assertThat(DemoReport.result(FOUND).strip())
        .isEqualTo("PASS  UNKNOWN_EXECUTION arrived after 18 ms");
    assertThat(DemoReport.result(MISSED).strip())
        .isEqualTo("MISSING  no RUNTIME_DRIFT MEMFD_EXECUTION within 10 s");
    assertThat(DemoReport.result(SILENT).strip()).isEqualTo("PASS  no alert about /usr/bin/true");
    assertThat(DemoReport.result(SKIPPED).strip())
        .isEqualTo("SKIPPED  no C library found in /proc/self/maps to copy");
  }

  @Test
  void headerNamesTheScenarioWhatItDoesAndWhatItExpects() {
    assertThat(
            DemoReport.header(2, 4, "unknown binary", "copies and runs it", "UNKNOWN_EXECUTION")
                .lines()
                .toList())
        .containsExactly(
            "",
            "[2/4] unknown binary",
            "  does:     copies and runs it",
            "  expects:  UNKNOWN_EXECUTION");
  }

  @Test
  void jsonCarriesEveryScenarioWithItsStatusAlertAndNote() {
    ObjectMapper mapper = new ObjectMapper();
    JsonNode root =
        DemoReport.json(
            mapper, List.of(SILENT, FOUND, MISSED), 4_850, 3, Map.of("kernel.exec", 2L));

    assertThat(root.path("passed").asBoolean()).isFalse();
    assertThat(root.path("elapsedMillis").asLong()).isEqualTo(4_850);
    assertThat(root.path("otherAlerts").asInt()).isEqualTo(3);
    assertThat(root.path("lost").path("kernel.exec").asLong()).isEqualTo(2);
    assertThat(root.path("scenarios")).hasSize(3);
    JsonNode found = root.path("scenarios").get(1);
    assertThat(found.path("name").asText()).isEqualTo("unknown-binary");
    assertThat(found.path("status").asText()).isEqualTo("PASS");
    assertThat(found.path("alert").path("type").asText()).isEqualTo("UNKNOWN_EXECUTION");
    assertThat(found.path("alert").path("pid").asInt()).isEqualTo(4242);
    assertThat(found.path("alert").path("path").asText()).isEqualTo("/tmp/d/unknown-true");
    assertThat(found.path("alert").path("latencyMillis").asLong()).isEqualTo(18);
    assertThat(found.path("seen")).hasSize(1);
    assertThat(root.path("scenarios").get(0).path("alert").isNull()).isTrue();
    assertThat(root.path("scenarios").get(2).path("note").asText())
        .isEqualTo("no RUNTIME_DRIFT MEMFD_EXECUTION within 10 s");
  }

  @Test
  void alertTakesTheFindingFromTheEventDetails() {
    SecurityEvent e =
        SecurityEvent.builder(EventType.RUNTIME_DRIFT, Instant.parse("2026-01-01T00:00:00Z"))
            .pid(7)
            .reason("fileless execution")
            .detail("finding", "MEMFD_EXECUTION")
            .build();

    Alert a = Alert.of(e, 12);

    assertThat(a)
        .isEqualTo(
            new Alert("RUNTIME_DRIFT", "fileless execution", 7, null, "MEMFD_EXECUTION", 12));
  }
}
