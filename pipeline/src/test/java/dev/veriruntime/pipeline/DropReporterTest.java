package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/** A lasting loss is one condition with reminders, not a report in every 5-s window. */
class DropReporterTest {
  private static final Duration PERIOD = Duration.ofSeconds(5);

  private final VirtualTimeScheduler clock = VirtualTimeScheduler.create();
  private final DropLedger ledger = new DropLedger();
  private final DropReporter reporter = new DropReporter(ledger, null, PERIOD, clock, "h");
  private final List<SecurityEvent> reports = new ArrayList<>();

  /** Runs {@code windows} windows of 5 s, losing {@code perWindow} execs in each. */
  private void windows(int windows, long perWindow) {
    for (int i = 0; i < windows; i++) {
      ledger.add("kernel.exec", perWindow);
      clock.advanceTimeBy(PERIOD);
      reports.addAll(reporter.tick());
    }
  }

  private static long seconds(SecurityEvent e) {
    return e.time().getEpochSecond();
  }

  private static long lost(SecurityEvent e) {
    Object lost = e.details().get("lost");
    return lost == null
        ? 0
        : ((Map<?, ?>) lost).values().stream().mapToLong(v -> ((Number) v).longValue()).sum();
  }

  @Test
  void aLossThatLastsTwoHoursIsFiveReportsAndEveryLostEventIsCounted() {
    assertThat(reporter.tick()).isEmpty(); // the first window opens at 0
    windows(1440, 3); // two hours, 3 execs lost in every window
    windows(12, 0); // a quiet minute ends it

    assertThat(reports).allMatch(e -> e.type() == EventType.VERIFICATION_DEGRADED);
    // At once, then 1 min, 10 min and 1 h after the report before; the end a minute after the last
    // loss (two hours: 7,200 s).
    assertThat(reports.stream().map(DropReporterTest::seconds))
        .containsExactly(5L, 65L, 665L, 4265L, 7260L);
    assertThat(reports.stream().mapToLong(DropReporterTest::lost).sum()).isEqualTo(1440 * 3);
    assertThat(reports.get(0).reason())
        .isEqualTo(
            "3 events not fully handled between 1970-01-01T00:00:00Z and 1970-01-01T00:00:05Z:"
                + " {kernel.exec=3}");
    assertThat(reports.get(1).reason())
        .isEqualTo(
            "36 events not fully handled between 1970-01-01T00:00:05Z and 1970-01-01T00:01:05Z:"
                + " {kernel.exec=36}; the loss goes on since 1970-01-01T00:00:00Z (39 events in"
                + " all), reported again in 10 min while it lasts");
    SecurityEvent last = reports.get(4);
    assertThat(last.details())
        .containsEntry("lossEnded", true)
        .containsEntry("lossSince", "1970-01-01T00:00:00Z")
        .containsEntry("lossTotal", 4320L)
        .containsEntry(
            "window", Map.of("from", "1970-01-01T01:11:05Z", "to", "1970-01-01T02:01:00Z"));
    assertThat(last.reason())
        .endsWith("the loss that began at 1970-01-01T00:00:00Z has stopped (4320 events in all)");

    // A loss after that is news again: reported at once.
    windows(1, 2);
    assertThat(reports).hasSize(6);
    assertThat(reports.get(5).details()).containsEntry("lossTotal", 2L);
  }

  @Test
  void aSingleLossIsOneReportWithNothingAfterIt() {
    reporter.tick();
    windows(1, 7);
    windows(120, 0);
    assertThat(reports).hasSize(1);
    assertThat(reports.get(0).details())
        .containsEntry("lost", Map.of("kernel.exec", 7L))
        .doesNotContainKey("lossEnded");
  }

  @Test
  void aLastingLossThatStopsRightAfterAReportSaysItStoppedWithoutCounts() {
    reporter.tick();
    windows(13, 1); // reports at 5 s and at 65 s, the last loss in the window of the second
    windows(12, 0);
    assertThat(reports).hasSize(3);
    SecurityEvent end = reports.get(2);
    assertThat(end.details())
        .doesNotContainKey("lost")
        .containsEntry("lossEnded", true)
        .containsEntry("lossTotal", 13L);
    assertThat(end.reason())
        .isEqualTo("the loss that began at 1970-01-01T00:00:00Z has stopped (13 events in all)");
  }

  @Test
  void aPlaceThatStartsLosingDuringALastingLossIsReportedAtOnce() {
    reporter.tick();
    windows(3, 1);
    ledger.add("sink.webhook.dropped", 4);
    windows(1, 1);
    assertThat(reports).hasSize(2);
    assertThat(reports.get(1).details())
        .containsEntry("lost", Map.of("kernel.exec", 3L, "sink.webhook.dropped", 4L));
  }

  @Test
  void thePipelinesEndReportsWhatIsHeld() {
    reporter.tick();
    windows(4, 2);
    assertThat(reports).hasSize(1);
    List<SecurityEvent> last = reporter.report();
    assertThat(last).hasSize(1);
    assertThat(last.get(0).details()).containsEntry("lost", Map.of("kernel.exec", 6L));
    assertThat(last.get(0).reason())
        .endsWith(
            "; the loss went on since 1970-01-01T00:00:00Z (8 events in all) until the pipeline"
                + " stopped");
  }
}
