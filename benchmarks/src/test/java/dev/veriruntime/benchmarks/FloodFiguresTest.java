package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FloodFiguresTest {
  private static UniqueStorm.Result storm(long driverOk, long read, long answered, long lost) {
    return new UniqueStorm.Result(
        "1 1 1",
        "2 2 2",
        100,
        4,
        driverOk,
        0,
        1.0,
        read,
        answered,
        90,
        Map.of("UNKNOWN", 90L),
        lost,
        lost,
        Map.of(),
        0,
        90,
        0.5,
        3.0,
        9.0,
        1.0,
        200_000,
        250_000,
        210_000,
        260_000,
        35,
        3,
        10,
        100);
  }

  @Test
  void anExecReadButNotAnsweredOrRunButNeitherReadNorLostFailsTheAccounting() {
    assertThat(storm(100, 150, 150, 0).everyExecAnswered()).isTrue();
    // Answers counted after the reads may include execs read in between.
    assertThat(storm(100, 150, 151, 0).everyExecAnswered()).isTrue();
    assertThat(storm(100, 150, 149, 0).everyExecAnswered()).isFalse();
    assertThat(storm(100, 90, 90, 10).unaccounted()).isZero();
    assertThat(storm(100, 90, 90, 5).unaccounted()).isEqualTo(5);
    assertThat(UniqueStorm.markdown(storm(100, 90, 90, 5), Instant.EPOCH))
        .contains("| unaccounted (driver − read − lost; ≤ 0 is none) | 5 |")
        .contains("| every exec read answered | yes |");
  }

  @Test
  void latencyQuantilesAreNearestRankOverTheAnsweredCalls() {
    ApiFlood.Latency l =
        ApiFlood.Latency.of(List.of(5.0, 1.0, 2.0, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0), 12);
    assertThat(l.calls()).isEqualTo(12);
    assertThat(l.answered()).isEqualTo(10);
    assertThat(l.p50Ms()).isEqualTo(5.0);
    assertThat(l.p99Ms()).isEqualTo(10.0);
    assertThat(l.maxMs()).isEqualTo(10.0);
    assertThat(ApiFlood.Latency.of(List.of(), 3).p50Ms()).isNaN();
  }
}
