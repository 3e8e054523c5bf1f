package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

class GridTimerTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  @Test
  void aFirstRunIsPutOffToTheNextGridPoint() {
    assertThat(GridTimer.alignedDelay(10 * SECOND + 300 * MS, SECOND, SECOND)).isEqualTo(1700 * MS);
    assertThat(GridTimer.alignedDelay(10 * SECOND, SECOND, SECOND))
        .as("on the grid")
        .isEqualTo(SECOND);
    assertThat(GridTimer.alignedDelay(-SECOND - 300 * MS, 0, SECOND))
        .as("nanoTime may be negative")
        .isEqualTo(300 * MS);
  }

  @Test
  void aPeriodShorterThanASecondIsItsOwnGridLongerOnesShareTheSecond() {
    assertThat(GridTimer.alignedDelay(10 * SECOND + 300 * MS, 0, 250 * MS)).isEqualTo(200 * MS);
    assertThat(GridTimer.alignedDelay(10 * SECOND + 300 * MS, 60 * SECOND, 60 * SECOND))
        .isEqualTo(60 * SECOND + 700 * MS);
    assertThat(GridTimer.alignedDelay(10 * SECOND + 300 * MS, 5 * MS, 0))
        .as("not periodic: as asked")
        .isEqualTo(5 * MS);
  }

  @Test
  void reactorIntervalsStartedAtDifferentTimesAreDueOnTheSameGrid() {
    GridTimer executor = new GridTimer("grid-timer-test");
    Scheduler timer = Schedulers.fromExecutorService(executor, "grid-timer-test");
    try {
      Disposable a =
          Flux.interval(Duration.ofMillis(1300), Duration.ofSeconds(1), timer).subscribe();
      Disposable b =
          Flux.interval(Duration.ofMillis(1700), Duration.ofSeconds(1), timer).subscribe();
      Disposable c = Flux.interval(Duration.ofMillis(250), timer).subscribe();
      long now = System.nanoTime();
      List<Long> due =
          executor.getQueue().stream()
              .map(task -> now + ((Delayed) task).getDelay(TimeUnit.NANOSECONDS))
              .toList();
      assertThat(due).hasSize(3);
      assertThat(due)
          .allSatisfy(
              at -> {
                long offGrid = Math.floorMod(at, 250 * MS);
                assertThat(Math.min(offGrid, 250 * MS - offGrid)).isLessThan(5 * MS);
              });
      assertThat(due.stream().filter(at -> Math.floorMod(at + 5 * MS, SECOND) < 10 * MS))
          .as("the two 1-s intervals on the whole second")
          .hasSizeGreaterThanOrEqualTo(2);
      a.dispose();
      b.dispose();
      c.dispose();
    } finally {
      timer.dispose();
    }
  }
}
