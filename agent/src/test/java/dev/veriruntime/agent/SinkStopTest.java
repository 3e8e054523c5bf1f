package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.testing.GatedExecutor;
import dev.veriruntime.sinks.testing.RecordingSink;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The stop's wait for sinks whose downstream is away: one deadline for all of them. */
class SinkStopTest {
  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
  private final PrintStream err = new PrintStream(printed, true, StandardCharsets.UTF_8);

  @Test
  void sinksThatCannotDeliverShareOneDeadlineInsteadOfWaitingInTurn() {
    try (GatedExecutor away = new GatedExecutor(false);
        GatedExecutor delivering = new GatedExecutor(true)) {
      // Each RecordingSink's own close waits 5 s: in turn, flush and close, these two held the
      // stop 2 × (1 + 5) s.
      RecordingSink first = stalled("first", away);
      RecordingSink second = stalled("second", away);
      RecordingSink healthy = new RecordingSink("healthy", 8, delivering.scheduler());
      healthy.emit(event(9));
      Daemon.SinkDeadline deadline = new Daemon.SinkDeadline(Duration.ofSeconds(1));

      long start = System.nanoTime();
      Daemon.flushAndClose(first, deadline, err);
      Daemon.flushAndClose(second, deadline, err);
      Daemon.flushAndClose(healthy, deadline, err);
      long tookMillis = (System.nanoTime() - start) / 1_000_000;

      assertThat(tookMillis).isBetween(900L, 4_000L);
      assertThat(printed.toString(StandardCharsets.UTF_8).lines())
          .containsExactly(
              "veriruntime: sink first still held 2 event(s) 1 s after the stop; they are not"
                  + " delivered to it",
              "veriruntime: sink second still held 2 event(s) 1 s after the stop; they are not"
                  + " delivered to it");
      assertThat(healthy.received()).hasSize(1);
      assertThat(first.emit(event(10))).isFalse();
      assertThat(second.emit(event(10))).isFalse();
    }
  }

  private static RecordingSink stalled(String name, GatedExecutor away) {
    RecordingSink sink = new RecordingSink(name, 8, away.scheduler());
    sink.emit(event(1));
    sink.emit(event(2));
    return sink;
  }

  private static SecurityEvent event(int i) {
    return SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, Instant.EPOCH.plusMillis(i))
        .host("h")
        .pid(100 + i)
        .reason("event " + i)
        .build();
  }
}
