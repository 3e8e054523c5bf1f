package dev.veriruntime.sinks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.testing.GatedExecutor;
import dev.veriruntime.sinks.testing.RecordingSink;
import dev.veriruntime.sinks.testing.SinkContractTest;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Scheduler;

/** The contract applied to the in-memory sink, which is also what proves BoundedSink. */
class RecordingSinkTest extends SinkContractTest {
  private RecordingSink sink;

  @Override
  protected Sink newSink(int capacity, Scheduler scheduler) {
    sink = new RecordingSink("recording", capacity, scheduler);
    return sink;
  }

  @Override
  protected Optional<List<String>> deliveredIds() {
    return Optional.of(sink.received().stream().map(SecurityEvent::id).toList());
  }

  @Override
  protected void breakDownstream() {
    sink.failFromNowOn();
  }

  @Test
  void closeWithNoTimeLeftGivesUpOnWhatIsPendingAtOnce() {
    try (GatedExecutor stalled = new GatedExecutor(false)) {
      RecordingSink s = new RecordingSink("stalled", 8, stalled.scheduler());
      for (int i = 0; i < 3; i++) {
        s.emit(event(i));
      }
      long start = System.nanoTime();
      s.close(Duration.ZERO);
      long tookMillis = (System.nanoTime() - start) / 1_000_000;

      // close() would have waited its 5 s for the three events.
      assertThat(tookMillis).isLessThan(2_500);
      assertThat(s.stats().pending()).isEqualTo(3);
      assertThat(s.stats().delivered()).isZero();
      assertThat(s.stats().lastFailure()).contains("close timed out with 3 pending");
      assertThat(s.emit(event(3))).isFalse();
    }
  }
}
