package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class PrometheusScrapeTest {
  private static final String BEFORE =
      """
      # HELP veriruntime_events_lost_total records the kernel could not store
      # TYPE veriruntime_events_lost_total counter
      veriruntime_events_lost_total{kind="exec"} 2.0
      veriruntime_events_in_total{kind="ExecEvent"} 10.0
      lat_seconds_bucket{le="0.001"} 10
      lat_seconds_bucket{le="0.002"} 10
      lat_seconds_bucket{le="0.004"} 10
      lat_seconds_bucket{le="+Inf"} 10
      lat_seconds_count 10
      """;

  private static final String AFTER =
      """
      veriruntime_events_lost_total{kind="exec"} 5.0
      veriruntime_events_lost_total{kind="mmap"} 7.0
      veriruntime_events_in_total{kind="ExecEvent"} 110.0
      jvm_gc_pause_seconds_count{action="end of minor GC",cause="Allocation Failure",gc="PS Scavenge"} 3.0
      jvm_gc_pause_seconds_count{action="end of minor GC",cause="System.gc()",gc="PS Scavenge"} 1.0
      jvm_gc_pause_seconds_count{action="end of major GC",cause="System.gc()",gc="PS MarkSweep"} 1.0
      lat_seconds_bucket{le="0.001"} 60
      lat_seconds_bucket{le="0.002"} 100
      lat_seconds_bucket{le="0.004"} 109
      lat_seconds_bucket{le="+Inf"} 110
      lat_seconds_count 110
      """;

  @Test
  void sumsOverAllLabelSetsOrOverThoseWithOneLabel() {
    PrometheusScrape after = PrometheusScrape.parse(AFTER);
    assertThat(after.sum("veriruntime_events_lost_total")).isEqualTo(12.0);
    assertThat(after.sum("veriruntime_events_lost_total", "kind", "mmap")).isEqualTo(7.0);
    assertThat(after.sum("veriruntime_events_lost_total", "kind", "exit")).isZero();
    assertThat(after.sum("jvm_gc_pause_seconds_count", "action", "end of minor GC")).isEqualTo(4.0);
    assertThat(after.sum("absent_total")).isZero();
  }

  @Test
  void skipsCommentsAndKeepsLabelValues() {
    PrometheusScrape before = PrometheusScrape.parse(BEFORE);
    assertThat(before.samples()).hasSize(7);
    assertThat(before.samples().get(2).labels()).containsEntry("le", "0.001");
  }

  @Test
  void quantilesComeFromTheBucketDeltasBetweenScrapes() {
    PrometheusScrape before = PrometheusScrape.parse(BEFORE);
    PrometheusScrape after = PrometheusScrape.parse(AFTER);
    // 100 new observations: 50 ≤ 1 ms, 40 in (1, 2] ms, 9 in (2, 4] ms, 1 above 4 ms
    assertThat(PrometheusScrape.histogramQuantile(before, after, "lat_seconds", 0.5))
        .isCloseTo(0.001, within(1e-12));
    assertThat(PrometheusScrape.histogramQuantile(before, after, "lat_seconds", 0.7))
        .isCloseTo(0.0015, within(1e-12));
    assertThat(PrometheusScrape.histogramQuantile(before, after, "lat_seconds", 0.99))
        .isCloseTo(0.004, within(1e-12));
    assertThat(PrometheusScrape.histogramQuantile(before, after, "lat_seconds", 0.999))
        .isEqualTo(0.004);
  }

  @Test
  void noObservationsIsNaN() {
    PrometheusScrape before = PrometheusScrape.parse(BEFORE);
    assertThat(PrometheusScrape.histogramQuantile(before, before, "lat_seconds", 0.99)).isNaN();
  }
}
