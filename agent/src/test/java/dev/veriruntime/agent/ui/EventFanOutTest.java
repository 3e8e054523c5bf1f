package dev.veriruntime.agent.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.testing.SinkContractTest;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The web view's event fan-out keeps the sink contract, replays the recent events, and is bounded.
 */
class EventFanOutTest extends SinkContractTest {
  private final List<String> seen = new CopyOnWriteArrayList<>();
  private Disposable page;

  @Override
  protected Sink newSink(int capacity, Scheduler scheduler) {
    EventFanOut fanOut = new EventFanOut(capacity, 10_000, scheduler);
    // One page open from the start reads everything delivered: the contract's downstream.
    page = fanOut.subscribe().subscribe(n -> seen.add(n.event().id()));
    return fanOut;
  }

  @Override
  protected Optional<List<String>> deliveredIds() {
    return Optional.of(List.copyOf(seen));
  }

  @AfterEach
  void closePage() {
    if (page != null) {
      page.dispose();
    }
  }

  @Test
  void aPageOpenedLaterSeesTheRecentEventsNumberedThenTheLiveOnes() {
    try (EventFanOut fanOut = new EventFanOut(1000, 256, Schedulers.immediate())) {
      for (int i = 0; i < EventFanOut.RECENT + 10; i++) {
        fanOut.emit(event(i));
      }
      fanOut.flush().block(Duration.ofSeconds(5));
      StepVerifier.create(fanOut.subscribe())
          .assertNext(n -> assertThat(n.seq()).isEqualTo(11))
          .expectNextCount(EventFanOut.RECENT - 1)
          .then(() -> fanOut.emit(event(999)))
          .assertNext(
              n -> {
                assertThat(n.seq()).isEqualTo(EventFanOut.RECENT + 11);
                assertThat(n.event().reason()).isEqualTo("contract event 999");
              })
          .thenCancel()
          .verify(Duration.ofSeconds(5));
    }
  }

  @Test
  void aPageThatDoesNotReadLosesItsOldestEventsAndIsCounted() {
    try (EventFanOut fanOut = new EventFanOut(1000, 5, Schedulers.immediate())) {
      StepVerifier.create(fanOut.subscribe(), 0)
          .then(
              () -> {
                for (int i = 0; i < 20; i++) {
                  fanOut.emit(event(i));
                }
              })
          .thenRequest(5)
          // The five newest are kept: 16..20.
          .assertNext(n -> assertThat(n.seq()).isEqualTo(16))
          .expectNextCount(4)
          .thenCancel()
          .verify(Duration.ofSeconds(5));
      assertThat(fanOut.slowSubscriberDrops()).isEqualTo(15);
      assertThat(fanOut.stats().dropped()).as("the sink itself lost nothing").isZero();
    }
  }
}
