package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;
import reactor.test.scheduler.VirtualTimeScheduler;

class AggregateStageTest {

  private static SecurityEvent unknown(String sha) {
    return SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, Instant.EPOCH)
        .exe("/tmp/" + sha, 1, 2, sha)
        .reason("no trusted reference")
        .build();
  }

  @Test
  void firstOccurrenceIsImmediateAndRepeatsFoldIntoCountsThatAddUp() {
    VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    TestPublisher<SecurityEvent> source = TestPublisher.create();
    List<SecurityEvent> out = new ArrayList<>();

    StepVerifier.withVirtualTime(
            () -> source.flux().transform(new AggregateStage(Duration.ofSeconds(10), 100, vts)),
            () -> vts,
            Long.MAX_VALUE)
        .then(() -> source.next(unknown("aa")))
        .assertNext(e -> assertThat(e.count()).isEqualTo(1))
        .then(
            () -> {
              for (int i = 0; i < 9_999; i++) {
                source.next(unknown("aa"));
              }
            })
        .expectNoEvent(Duration.ofSeconds(9))
        .thenAwait(Duration.ofSeconds(1))
        .assertNext(out::add)
        .then(() -> source.next(unknown("bb")))
        .assertNext(e -> assertThat(e.exe().sha256()).isEqualTo("bb"))
        .then(source::complete)
        .verifyComplete();

    assertThat(out).hasSize(1);
    assertThat(out.get(0).count()).isEqualTo(9_999);
    assertThat(out.get(0).details()).containsKey("aggregateOf");
  }

  @Test
  void idleKeyIsForgottenSoItsNextOccurrenceIsImmediateAgain() {
    VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    TestPublisher<SecurityEvent> source = TestPublisher.create();

    StepVerifier.withVirtualTime(
            () -> source.flux().transform(new AggregateStage(Duration.ofSeconds(10), 100, vts)),
            () -> vts,
            Long.MAX_VALUE)
        .then(() -> source.next(unknown("aa")))
        .expectNextCount(1)
        .expectNoEvent(Duration.ofSeconds(25))
        .then(() -> source.next(unknown("aa")))
        .assertNext(e -> assertThat(e.count()).isEqualTo(1))
        .then(source::complete)
        .verifyComplete();
  }

  @Test
  void completionFlushesPendingCounts() {
    VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    StepVerifier.withVirtualTime(
            () ->
                Flux.just(unknown("aa"), unknown("aa"), unknown("aa"))
                    .transform(new AggregateStage(Duration.ofSeconds(10), 100, vts)),
            () -> vts,
            Long.MAX_VALUE)
        .assertNext(e -> assertThat(e.count()).isEqualTo(1))
        .assertNext(e -> assertThat(e.count()).isEqualTo(2))
        .verifyComplete();
  }

  @Test
  void aFoldIsToldAsItsWindowsFirstRepeatAndNamesTheFirstOccurrence() {
    Aggregator aggregator = new Aggregator(Duration.ofSeconds(10), 100);
    SecurityEvent first = withPid(unknown("aa"), 1, "first");
    assertThat(aggregator.offer(first, Instant.EPOCH)).containsExactly(first);
    assertThat(aggregator.offer(withPid(unknown("aa"), 2, "bash"), Instant.ofEpochSecond(1)))
        .isEmpty();
    assertThat(aggregator.offer(withPid(unknown("aa"), 3, "make"), Instant.ofEpochSecond(2)))
        .isEmpty();

    List<SecurityEvent> folded = aggregator.flushExpired(Instant.ofEpochSecond(10));

    assertThat(folded).hasSize(1);
    SecurityEvent fold = folded.get(0);
    assertThat(fold.count()).isEqualTo(2);
    assertThat(fold.pid()).isEqualTo(2);
    assertThat(fold.details())
        .containsEntry("aggregateOf", first.id())
        .containsEntry("parent", "bash")
        .containsEntry(IncidentBook.PIDS, List.of(2, 3));
    // The next window starts empty: a key with no repeat in it is forgotten, not folded again.
    assertThat(aggregator.flushExpired(Instant.ofEpochSecond(20))).isEmpty();
    assertThat(aggregator.activeKeys()).isZero();
  }

  private static SecurityEvent withPid(SecurityEvent e, int pid, String parent) {
    return SecurityEvent.builder(e.type(), e.time())
        .pid(pid)
        .exe(e.exe().path(), e.exe().dev(), e.exe().ino(), e.exe().sha256())
        .reason(e.reason())
        .detail("parent", parent)
        .build();
  }

  @Test
  void beyondMaxKeysEventsPassThroughUnaggregated() {
    Aggregator aggregator = new Aggregator(Duration.ofSeconds(10), 1);
    assertThat(aggregator.offer(unknown("aa"), Instant.EPOCH)).hasSize(1);
    assertThat(aggregator.offer(unknown("bb"), Instant.EPOCH)).hasSize(1);
    assertThat(aggregator.offer(unknown("bb"), Instant.EPOCH)).hasSize(1);
    assertThat(aggregator.offer(unknown("aa"), Instant.EPOCH)).isEmpty();
  }
}
