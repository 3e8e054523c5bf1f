package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.verifier.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReattestationPlannerTest {
  private static final Instant T0 = Instant.parse("2026-11-23T08:00:00Z");
  private static final long MB = 1 << 20;

  @Test
  void budgetAccruesWithTimeUpToTheBurst() {
    MutableClock clock = new MutableClock(T0);
    ReattestationPlanner planner = new ReattestationPlanner(clock, 10 * MB, Duration.ofSeconds(3));
    assertThat(planner.availableBytes()).isZero();
    clock.advance(Duration.ofMillis(500));
    assertThat(planner.availableBytes()).isEqualTo(5 * MB);
    clock.advance(Duration.ofHours(1));
    assertThat(planner.availableBytes()).isEqualTo(30 * MB);
  }

  @Test
  void stalestFirstAndTheLastGrantIsPartial() {
    MutableClock clock = new MutableClock(T0);
    ReattestationPlanner planner = new ReattestationPlanner(clock, 10 * MB, Duration.ofSeconds(1));
    clock.advance(Duration.ofSeconds(1));
    List<ReattestationPlanner.Candidate> candidates =
        List.of(
            new ReattestationPlanner.Candidate(30, 1, 4 * MB, T0.minusSeconds(10)),
            new ReattestationPlanner.Candidate(20, 1, 4 * MB, null),
            new ReattestationPlanner.Candidate(10, 1, 4 * MB, T0.minusSeconds(3600)),
            new ReattestationPlanner.Candidate(40, 1, 4 * MB, T0.minusSeconds(5)));

    List<ReattestationPlanner.Grant> grants = planner.plan(candidates);

    assertThat(grants).extracting(ReattestationPlanner.Grant::pid).containsExactly(20, 10, 30);
    assertThat(grants)
        .extracting(ReattestationPlanner.Grant::bytes)
        .containsExactly(4 * MB, 4 * MB, 2 * MB);
    assertThat(planner.availableBytes()).isZero();
    assertThat(planner.plan(candidates)).isEmpty();
  }

  @Test
  void refundsReturnUnusedBudget() {
    MutableClock clock = new MutableClock(T0);
    ReattestationPlanner planner = new ReattestationPlanner(clock, MB, Duration.ofSeconds(1));
    clock.advance(Duration.ofSeconds(1));
    List<ReattestationPlanner.Grant> g =
        planner.plan(List.of(new ReattestationPlanner.Candidate(1, 1, 10 * MB, null)));
    assertThat(g).singleElement().extracting(ReattestationPlanner.Grant::bytes).isEqualTo(MB);
    planner.refund(MB / 2);
    assertThat(planner.availableBytes()).isEqualTo(MB / 2);
  }

  @Test
  void overTimeEveryProcessIsRevisitedWithinTheBudget() {
    MutableClock clock = new MutableClock(T0);
    long budget = 8 * MB;
    ReattestationPlanner planner = new ReattestationPlanner(clock, budget, Duration.ofSeconds(1));
    long[] remaining = {20 * MB, 5 * MB, 1 * MB};
    Instant[] last = new Instant[3];
    long spent = 0;
    for (int second = 0; second < 60; second++) {
      clock.advance(Duration.ofSeconds(1));
      List<ReattestationPlanner.Candidate> c = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        c.add(new ReattestationPlanner.Candidate(i + 1, 1, remaining[i], last[i]));
      }
      for (ReattestationPlanner.Grant g : planner.plan(c)) {
        int i = g.pid() - 1;
        remaining[i] -= g.bytes();
        spent += g.bytes();
        if (remaining[i] == 0) {
          last[i] = clock.instant();
          remaining[i] = new long[] {20 * MB, 5 * MB, 1 * MB}[i]; // the next pass
        }
      }
    }
    assertThat(spent).isLessThanOrEqualTo(60 * budget);
    assertThat(spent).isGreaterThan(55 * budget);
    for (Instant l : last) {
      assertThat(l)
          .isAfter(T0.plusSeconds(50)); // each process completed a pass in the last 10 seconds
    }
  }

  @Test
  void aProcessPassedOverRecentlyIsNotDueAndGetsNoGrantUntilTheRevisitIntervalPassed() {
    MutableClock clock = new MutableClock(T0);
    ReattestationPlanner planner =
        new ReattestationPlanner(clock, 10 * MB, Duration.ofSeconds(5), Duration.ofSeconds(60));
    clock.advance(Duration.ofSeconds(5));
    Instant justNow = clock.instant().minusSeconds(1);
    List<ReattestationPlanner.Candidate> candidates =
        List.of(
            new ReattestationPlanner.Candidate(1, 1, 4 * MB, justNow),
            new ReattestationPlanner.Candidate(2, 1, 4 * MB, null),
            new ReattestationPlanner.Candidate(3, 1, 4 * MB, clock.instant().minusSeconds(60)));

    assertThat(planner.due(justNow)).isFalse();
    assertThat(planner.due(null)).isTrue();
    assertThat(planner.plan(candidates))
        .extracting(ReattestationPlanner.Grant::pid)
        .containsExactly(2, 3);
    assertThat(planner.availableBytes()).isEqualTo(42 * MB);

    clock.advance(Duration.ofSeconds(59));
    assertThat(planner.due(justNow)).isTrue();
    assertThat(planner.plan(List.of(candidates.get(0))))
        .extracting(ReattestationPlanner.Grant::pid)
        .containsExactly(1);
  }

  @Test
  void withoutARevisitIntervalEveryProcessIsDueAtOnce() {
    MutableClock clock = new MutableClock(T0);
    ReattestationPlanner planner = new ReattestationPlanner(clock, MB, Duration.ofSeconds(1));
    assertThat(planner.due(clock.instant())).isTrue();
  }

  @Test
  void rejectsNegativeRevisitInterval() {
    assertThatThrownBy(
            () ->
                new ReattestationPlanner(
                    new MutableClock(T0), MB, Duration.ofSeconds(1), Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejectsNonPositiveBudget() {
    assertThatThrownBy(
            () -> new ReattestationPlanner(new MutableClock(T0), 0, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
