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
    return unknown(sha, Instant.EPOCH);
  }

  private static SecurityEvent unknown(String sha, Instant time) {
    return SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, time)
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
  void aRepeatAfterItsReportWasDueGoesOutAtOnceAndTheNextOnesWaitLonger() {
    VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    TestPublisher<SecurityEvent> source = TestPublisher.create();
    List<SecurityEvent> out = new ArrayList<>();

    StepVerifier.withVirtualTime(
            () -> source.flux().transform(new AggregateStage(Duration.ofSeconds(10), 100, vts)),
            () -> vts,
            Long.MAX_VALUE)
        .then(() -> source.next(unknown("aa")))
        .assertNext(out::add)
        .expectNoEvent(Duration.ofSeconds(25))
        .then(() -> source.next(unknown("aa")))
        .assertNext(out::add)
        .then(() -> source.next(unknown("aa")))
        // Counted until a minute after the last report (ticks every 10 s: at 90 s).
        .expectNoEvent(Duration.ofSeconds(64))
        .thenAwait(Duration.ofSeconds(1))
        .assertNext(out::add)
        .then(source::complete)
        .verifyComplete();

    assertThat(out).extracting(SecurityEvent::count).containsExactly(1L, 1L, 1L);
    assertThat(out.get(0).details()).doesNotContainKey("aggregateOf");
    assertThat(out.get(1).details()).containsEntry("aggregateOf", out.get(0).id());
    assertThat(out.get(2).details()).containsEntry("aggregateOf", out.get(0).id());
  }

  @Test
  void aFindingThatRecursEveryMinuteForAMonthIsAboutThirtyFiveEventsWithAllItsCounts() {
    Aggregator aggregator = new Aggregator(Duration.ofSeconds(10), 100);
    List<SecurityEvent> out = new ArrayList<>();
    long month = Duration.ofDays(30).toSeconds();
    for (long second = 0; second < month; second += 10) {
      Instant now = Instant.ofEpochSecond(second);
      if (second % 60 == 0) {
        out.addAll(aggregator.offer(unknown("aa", now), now));
      }
      out.addAll(aggregator.flushExpired(now));
    }
    out.addAll(aggregator.flushAll(Instant.ofEpochSecond(month)));

    // At once, a minute later, a minute after that, then 10 min, 1 h and once a day.
    assertThat(out).hasSizeBetween(33, 36);
    assertThat(out.stream().mapToLong(SecurityEvent::count).sum()).isEqualTo(month / 60);
    assertThat(out.subList(0, 5))
        .extracting(SecurityEvent::time)
        .containsExactly(
            Instant.EPOCH,
            Instant.ofEpochSecond(60),
            Instant.ofEpochSecond(120),
            Instant.ofEpochSecond(720),
            Instant.ofEpochSecond(4_320));
    assertThat(out.get(5).time()).isEqualTo(Instant.ofEpochSecond(4_320 + 86_400));
  }

  @Test
  void aKeyNotSeenForADayIsForgottenSoItsNextOccurrenceIsAFirstOneAgain() {
    Aggregator aggregator = new Aggregator(Duration.ofSeconds(10), 100);
    aggregator.offer(unknown("aa"), Instant.EPOCH);

    assertThat(aggregator.flushExpired(Instant.ofEpochSecond(86_399))).isEmpty();
    assertThat(aggregator.activeKeys()).isOne();
    assertThat(aggregator.flushExpired(Instant.ofEpochSecond(86_400))).isEmpty();
    assertThat(aggregator.activeKeys()).isZero();
    assertThat(aggregator.offer(unknown("aa"), Instant.ofEpochSecond(86_401)))
        .singleElement()
        .satisfies(e -> assertThat(e.details()).doesNotContainKey("aggregateOf"));
  }

  @Test
  void beyondTheQuietKeyBoundTheLeastRecentlySeenAreForgotten() {
    Aggregator aggregator = new Aggregator(Duration.ofSeconds(10), 100_000);
    for (int i = 0; i < Aggregator.MAX_QUIET_KEYS + 10; i++) {
      aggregator.offer(unknown("k" + i), Instant.EPOCH);
    }
    // The first key seen again: the most recently seen now, and counted.
    assertThat(aggregator.offer(unknown("k0"), Instant.ofEpochSecond(1))).isEmpty();

    aggregator.flushExpired(Instant.ofEpochSecond(2));

    assertThat(aggregator.activeKeys()).isEqualTo(Aggregator.MAX_QUIET_KEYS + 1);
    // k1 to k10 were the least recently seen quiet keys: forgotten, so k1 is a first one again.
    assertThat(aggregator.offer(unknown("k1"), Instant.ofEpochSecond(3)))
        .singleElement()
        .satisfies(e -> assertThat(e.details()).doesNotContainKey("aggregateOf"));
    assertThat(aggregator.offer(unknown("k11"), Instant.ofEpochSecond(3))).isEmpty();
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
    // The next interval starts empty: nothing more to tell, the key is remembered.
    assertThat(aggregator.flushExpired(Instant.ofEpochSecond(80))).isEmpty();
    assertThat(aggregator.activeKeys()).isOne();
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
