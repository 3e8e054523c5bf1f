package dev.veriruntime.sinks;

import dev.veriruntime.sinks.testing.RecordingSink;
import dev.veriruntime.sinks.testing.SinkContractTest;
import java.util.List;
import java.util.Optional;
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
}
