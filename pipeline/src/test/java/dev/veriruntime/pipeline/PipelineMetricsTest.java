package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PipelineMetricsTest {

  @Test
  void execLatencyIsExportedAsHistogramBucketsWithoutClientSidePercentiles() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PipelineMetrics metrics = new PipelineMetrics(registry);
    metrics.execLatency(TimeUnit.MICROSECONDS.toNanos(40));
    metrics.execLatency(TimeUnit.MILLISECONDS.toNanos(3));
    metrics.execLatency(-1); // a clock step: not a latency

    HistogramSnapshot snapshot = metrics.execLatencyTimer().takeSnapshot();
    assertThat(snapshot.count()).isEqualTo(2);
    assertThat(snapshot.percentileValues()).isEmpty();
    assertThat(snapshot.histogramCounts()).hasSizeGreaterThan(20);
    assertThat(countUpTo(snapshot, 0.000_050)).isEqualTo(1);
    assertThat(countUpTo(snapshot, 0.010)).isEqualTo(2);
    String scrape = registry.scrape();
    assertThat(scrape)
        .contains("veriruntime_exec_verdict_latency_seconds_bucket{")
        .contains("veriruntime_exec_verdict_latency_seconds_count 2")
        .doesNotContain("quantile=");
  }

  @Test
  void everyEventKindHasItsCounterFromTheStartAtZero() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    PipelineMetrics metrics = new PipelineMetrics(registry);

    for (Class<?> kind : RuntimeEvent.class.getPermittedSubclasses()) {
      assertThat(
              registry
                  .get("veriruntime.events.in")
                  .tag("kind", kind.getSimpleName())
                  .counter()
                  .count())
          .as(kind.getSimpleName())
          .isZero();
    }
    metrics.eventIn(ExitEvent.class);
    assertThat(registry.get("veriruntime.events.in").tag("kind", "ExitEvent").counter().count())
        .isEqualTo(1);
  }

  /** Observations at or below {@code seconds}, from the first bucket bound that reaches it. */
  private static double countUpTo(HistogramSnapshot snapshot, double seconds) {
    return Arrays.stream(snapshot.histogramCounts())
        .filter(b -> b.bucket(TimeUnit.SECONDS) >= seconds)
        .findFirst()
        .map(CountAtBucket::count)
        .orElseThrow();
  }
}
