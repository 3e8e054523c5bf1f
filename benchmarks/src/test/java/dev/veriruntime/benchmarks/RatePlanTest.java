package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class RatePlanTest {
  @Test
  void levelsAreMaxOrPositiveRates() {
    assertThat(RatePlan.parseLevels(List.of("max", "500", " 1000 ", "MAX", "62.5")))
        .containsExactly(RatePlan.MAX, 500.0, 1000.0, RatePlan.MAX, 62.5);
  }

  @Test
  void refusesLevelsThatAreNotRates() {
    assertThatThrownBy(() -> RatePlan.parseLevels(List.of("fast"))).hasMessageContaining("'fast'");
    assertThatThrownBy(() -> RatePlan.parseLevels(List.of("0"))).hasMessageContaining("> 0");
    assertThatThrownBy(() -> RatePlan.parseLevels(List.of("-5"))).hasMessageContaining("> 0");
    assertThatThrownBy(() -> RatePlan.parseLevels(List.of("1e999"))).hasMessageContaining("> 0");
    assertThatThrownBy(() -> RatePlan.parseLevels(List.of())).hasMessageContaining("no level");
  }

  @Test
  void aTotalRateIsSplitEvenlyOverTheDrivers() {
    assertThat(RatePlan.perDriver(500, 8)).isEqualTo(62.5);
    assertThat(RatePlan.perDriver(1000, 3)).isEqualTo(1000 / 3.0);
  }

  @Test
  void dueCountsTheExecsWhoseTimeFallsInsideTheStorm() {
    // at 62.5/s the n-th exec is due at n × 16 ms: n = 0..187 fall before 3 s
    assertThat(RatePlan.duePerDriver(62.5, 3)).isEqualTo(188);
    // exactly 125 fit in 2 s: the 125th is due at 2.000 s, which is the end
    assertThat(RatePlan.duePerDriver(62.5, 2)).isEqualTo(125);
    // 0.1 × 30 is 3.0000000000000004 in binary: still 3
    assertThat(RatePlan.duePerDriver(0.1, 30)).isEqualTo(3);
    assertThat(RatePlan.due(500, 8, 3)).isEqualTo(8 * 188);
    assertThat(RatePlan.due(1000, 3, 1)).isEqualTo(3 * 334);
  }

  @Test
  void labels() {
    assertThat(RatePlan.label(RatePlan.MAX)).isEqualTo("max");
    assertThat(RatePlan.label(500)).isEqualTo("500/s");
    assertThat(RatePlan.label(62.5)).isEqualTo("62.5/s");
  }
}
